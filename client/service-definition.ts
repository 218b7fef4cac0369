// Bridges protobuf-es v2 service descriptors to nice-grpc service definitions (no npm package
// does this): serialization with toBinary/fromBinary, and method types inferred from the
// generated descriptors, so clients pass plain init objects and servers return them too.
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { MethodDefinition } from "nice-grpc";

type StreamFlags<Kind> = Kind extends "server_streaming"
  ? [false, true]
  : Kind extends "client_streaming"
    ? [true, false]
    : Kind extends "bidi_streaming"
      ? [true, true]
      : [false, false];

/** The nice-grpc definition derived from one generated protobuf-es service. */
export type NiceServiceDefinition<S extends GenServiceMethods> = {
  [K in keyof S]: MethodDefinition<
    MessageInitShape<S[K]["input"]>,
    MessageShape<S[K]["input"]>,
    MessageInitShape<S[K]["output"]>,
    MessageShape<S[K]["output"]>,
    StreamFlags<S[K]["methodKind"]>[0],
    StreamFlags<S[K]["methodKind"]>[1]
  >;
};

function serializer<D extends DescMessage>(schema: D) {
  return (value: MessageInitShape<D>): Uint8Array => {
    const message = (value as { $typeName?: string }).$typeName === schema.typeName ? (value as MessageShape<D>) : create(schema, value);
    return toBinary(schema, message);
  };
}

function deserializer<D extends DescMessage>(schema: D) {
  return (bytes: Uint8Array): MessageShape<D> => fromBinary(schema, bytes);
}

/** Builds the nice-grpc definition of a generated service (method keys are the lowerCamel local names). */
export function toNiceDefinition<S extends GenServiceMethods>(service: GenService<S>): NiceServiceDefinition<S> {
  const definition: Record<string, MethodDefinition<unknown, unknown, unknown, unknown>> = {};
  for (const method of service.methods) {
    const idempotency = method.idempotency;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input) as (value: unknown) => Uint8Array,
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output) as (value: unknown) => Uint8Array,
      responseDeserialize: deserializer(method.output),
      options: idempotency === 1 ? { idempotencyLevel: "NO_SIDE_EFFECTS" } : idempotency === 2 ? { idempotencyLevel: "IDEMPOTENT" } : {},
    };
  }
  return definition as NiceServiceDefinition<S>;
}
