// Caps the server streams open at once, per connection and in total (server.streams), for every
// streaming method alike (FollowLogs, WatchEvents, WatchSignals, WatchStats, RunMonitored, health
// Watch, reflection): each costs the daemon a little memory even while its client reads nothing,
// so their number must be bounded too. Beyond a cap the call fails with RESOURCE_EXHAUSTED naming it.
//
// nice-grpc's CallContext has no connection identity (and a Unix socket peer has no address), so
// a grpc-js interceptor stamps one into the call's metadata, as peer-certificate.interceptor.ts does.
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import { ServerError, Status, type CallContext, type ServerMiddleware, type ServerMiddlewareCall } from "nice-grpc";

/** Metadata key carrying the connection id (any value a client sent under it is dropped first). */
export const CONNECTION_ID_KEY = "x-corral-connection-id";

export interface StreamLimits {
  maxPerConnection: number;
  maxTotal: number;
}

const connectionIds = new WeakMap<object, string>();
let nextConnectionId = 1;

/**
 * The HTTP/2 session a call arrived on. grpc-js hands the first interceptor its base call, which
 * holds the call's HTTP/2 stream; that stream's session is the connection. Not a public field:
 * when a grpc-js version lacks it, calls fall back to the peer address ("unknown" on a Unix
 * socket, so every Unix caller would share one per-connection cap; the test would see it).
 */
function sessionOf(call: unknown): object | undefined {
  const stream = (call as { stream?: { session?: unknown } }).stream;
  const session = stream?.session;
  return typeof session === "object" && session !== null ? session : undefined;
}

/** Must come first among a server's interceptors (it needs the base call). */
export const connectionIdInterceptor: ServerInterceptor = (_method, call) => {
  const session = sessionOf(call);
  let id = session ? connectionIds.get(session) : `peer ${call.getPeer()}`;
  if (id === undefined && session) {
    id = `connection ${nextConnectionId++}`;
    connectionIds.set(session, id);
  }
  const stamp = id ?? "unknown";
  return new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, nextMetadata) => {
          metadata.remove(CONNECTION_ID_KEY);
          metadata.set(CONNECTION_ID_KEY, stamp);
          nextMetadata(metadata);
        },
      }),
  });
};

export interface StreamLimiter {
  /** One instance for every server of the daemon, so max_total counts them all. */
  readonly middleware: ServerMiddleware;
  /** Streams open now (for tests and metrics). */
  open(): number;
}

export function createStreamLimiter(limits: StreamLimits): StreamLimiter {
  const perConnection = new Map<string, number>();
  let total = 0;
  async function* middleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    if (!call.responseStream) return yield* call.next(call.request, context);
    const connection = context.metadata.get(CONNECTION_ID_KEY) ?? "unknown";
    const mine = perConnection.get(connection) ?? 0;
    if (mine >= limits.maxPerConnection) {
      throw new ServerError(
        Status.RESOURCE_EXHAUSTED,
        `${call.method.path}: this connection already has ${mine} streams open, the limit server.streams.max_per_connection (${limits.maxPerConnection}); close one, or raise the limit`,
      );
    }
    if (total >= limits.maxTotal) {
      throw new ServerError(
        Status.RESOURCE_EXHAUSTED,
        `${call.method.path}: the daemon already has ${total} streams open, the limit server.streams.max_total (${limits.maxTotal}); close one, or raise the limit`,
      );
    }
    total++;
    perConnection.set(connection, mine + 1);
    try {
      return yield* call.next(call.request, context);
    } finally {
      total--;
      const left = (perConnection.get(connection) ?? 1) - 1;
      if (left === 0) perConnection.delete(connection);
      else perConnection.set(connection, left);
    }
  }
  return { middleware, open: () => total };
}
