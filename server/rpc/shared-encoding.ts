// Messages that go unchanged to many streams (one journal event to every WatchEvents subscriber)
// are converted and encoded once: a service marks such a message with shareEncoding(), and the
// definitions served through withSharedEncoding() keep its bytes for the next stream that sends
// the same object. Entries live as long as the message object (a WeakMap): the journal's ring
// holds the event, so the cache is bounded by the ring's bound.
import type { ServiceDefinition } from "nice-grpc";

const shared = new WeakSet<object>();
const encoded = new WeakMap<object, Uint8Array>();

/** Marks a message as sent as it is to several streams; it must not be changed afterwards. */
export function shareEncoding<T extends object>(message: T): T {
  shared.add(message);
  return message;
}

/** The definition with each server-streaming method's encoder keeping the bytes of shared messages. */
export function withSharedEncoding<D extends ServiceDefinition>(definition: D): D {
  const methods = Object.entries(definition).map(([name, method]) => {
    if (!method.responseStream) return [name, method];
    const serialize = method.responseSerialize;
    return [
      name,
      {
        ...method,
        responseSerialize: (value: unknown) => {
          if (typeof value !== "object" || value === null || !shared.has(value)) return serialize(value);
          let bytes = encoded.get(value);
          if (bytes === undefined) {
            bytes = serialize(value);
            encoded.set(value, bytes);
          }
          return bytes;
        },
      },
    ];
  });
  return Object.fromEntries(methods) as D;
}
