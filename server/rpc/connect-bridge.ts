// Serves the daemon's nice-grpc service implementations over the Connect protocol (the web
// dashboard's transport): each Connect call runs through the same middleware chain as a gRPC TCP
// call (shutdown terminator, call metrics, auth and audit, stream limits, error mapping) and then
// the same service method, so the browser reaches the same core functions with the same rules.
// Only the envelope differs: HTTP headers become call metadata, and a ServerError with its
// google.rpc.Status becomes a ConnectError with the same code and typed details.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type ConnectRouter, type HandlerContext, type MethodImpl } from "@connectrpc/connect";
import { Metadata, ServerError, type CallContext, type MethodDescriptor, type ServerMiddleware } from "nice-grpc";
import { DetailedServerError, isAbortError } from "./errors.js";
import type { CertificateSubject } from "./peer-certificate.interceptor.js";
import { PEER_SUBJECT_KEY } from "./peer-certificate.interceptor.js";
import { CONNECTION_ID_KEY } from "./stream-limit.js";

/** One method as nice-grpc's definitions describe it (gen/ts/corral/v1/*_nice_grpc.ts). */
interface NiceMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  options: MethodDescriptor["options"];
}

/** A service as served over gRPC: its protobuf-es descriptor, nice-grpc definition and implementation. */
export interface BridgedService {
  service: DescService;
  definition: Record<string, NiceMethod>;
  implementation: object;
}

/** Who is on the other end of a Connect call, as the HTTP server saw it (set per request). */
export interface WebPeer {
  /** "ADDRESS:PORT", for the audit log. */
  peer: string;
  /** One id per TCP connection (HTTP/1.1) or HTTP/2 session: the stream limiter's per-connection key. */
  connectionId: string;
  /** The verified TLS client certificate's subject, if any (mTLS). */
  subject?: CertificateSubject;
}

export const WEB_PEER = createContextKey<WebPeer>({ peer: "unknown", connectionId: "unknown" }, { description: "corral web peer" });

type Implementation = (request: unknown, context: CallContext) => unknown;

/**
 * The call context nice-grpc would have made: request headers as metadata, minus the keys only
 * the server may set (a client must not claim a connection id or a verified certificate).
 */
function callContextOf(context: HandlerContext): CallContext {
  const metadata = Metadata();
  context.requestHeader.forEach((value, key) => {
    if (key === CONNECTION_ID_KEY || key === PEER_SUBJECT_KEY || key.endsWith("-bin")) return;
    metadata.append(key, value);
  });
  const peer = context.values.get(WEB_PEER);
  metadata.set(CONNECTION_ID_KEY, peer.connectionId);
  if (peer.subject) metadata.set(PEER_SUBJECT_KEY, encodeURIComponent(JSON.stringify(peer.subject)));
  const header = Metadata();
  const trailer = Metadata();
  let headerSent = false;
  return {
    metadata,
    peer: peer.peer,
    header,
    sendHeader() {
      if (headerSent) return;
      headerSent = true;
      copyInto(header, context.responseHeader);
    },
    trailer,
    signal: context.signal,
  };
}

/** Text metadata into HTTP headers; binary values (only grpc-status-details-bin here) travel as ConnectError details instead. */
function copyInto(metadata: Metadata, headers: Headers): void {
  for (const [key, values] of metadata) {
    if (key.endsWith("-bin")) continue;
    for (const value of values) if (typeof value === "string") headers.append(key, value);
  }
}

/** The ConnectError for what the middleware chain threw: same code, same message, same google.rpc details. */
function toConnectError(error: unknown, context: CallContext): ConnectError {
  if (error instanceof ConnectError) return error;
  const metadata = new Headers();
  copyInto(context.trailer, metadata);
  if (isAbortError(error)) return new ConnectError("the call was cancelled", Code.Canceled, metadata);
  if (error instanceof ServerError) {
    // gRPC status codes and Connect codes are the same numbers (1 CANCELLED .. 16 UNAUTHENTICATED).
    const connectError = new ConnectError(error.details, error.code as number as Code, metadata);
    if (error instanceof DetailedServerError) {
      connectError.details = error.status.details.map((any) => ({ type: any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1), value: any.value }));
    }
    return connectError;
  }
  return new ConnectError(error instanceof Error ? error.message : String(error), Code.Internal, metadata);
}

function unaryImpl(method: NiceMethod, implementation: Implementation, middleware: ServerMiddleware) {
  const descriptor: MethodDescriptor = { path: method.path, requestStream: false, responseStream: false, options: method.options };
  return async (request: unknown, handlerContext: HandlerContext): Promise<unknown> => {
    const context = callContextOf(handlerContext);
    const calls = middleware(
      {
        method: descriptor,
        requestStream: false,
        request,
        responseStream: false,
        // biome-ignore lint/correctness/useYield: a unary call's next() only returns (nice-grpc's own unary handler has the same shape)
        next: async function* (nextRequest: unknown, nextContext: CallContext) {
          return await implementation(nextRequest, nextContext);
        },
      },
      context,
    );
    try {
      const result = await calls.next();
      if (!result.done || result.value === undefined) throw new Error(`${method.path}: a middleware yielded or returned nothing for a unary call`);
      return result.value;
    } catch (error) {
      throw toConnectError(error, context);
    } finally {
      context.sendHeader();
      copyInto(context.trailer, handlerContext.responseTrailer);
    }
  };
}

function serverStreamingImpl(method: NiceMethod, implementation: Implementation, middleware: ServerMiddleware) {
  const descriptor: MethodDescriptor = { path: method.path, requestStream: false, responseStream: true, options: method.options };
  return async function* (request: unknown, handlerContext: HandlerContext): AsyncGenerator<unknown, void, undefined> {
    const context = callContextOf(handlerContext);
    const messages = middleware(
      {
        method: descriptor,
        requestStream: false,
        request,
        responseStream: true,
        next: async function* (nextRequest: unknown, nextContext: CallContext) {
          yield* implementation(nextRequest, nextContext) as AsyncIterable<unknown>;
        },
      },
      context,
    );
    try {
      // Pulled one message at a time: connect-node waits for the socket to drain before asking
      // for the next, so a browser that reads slowly holds the producer back (no queue grows).
      for await (const message of messages) {
        context.sendHeader();
        yield message;
      }
    } catch (error) {
      throw toConnectError(error, context);
    } finally {
      context.sendHeader();
      copyInto(context.trailer, handlerContext.responseTrailer);
    }
  };
}

/** Registers every unary and server-streaming method of these services on a Connect router. */
export function registerBridgedServices(router: ConnectRouter, services: BridgedService[], middleware: ServerMiddleware): void {
  for (const { service, definition, implementation } of services) {
    for (const method of service.methods) {
      const nice = definition[method.localName];
      const impl = (implementation as Record<string, unknown>)[method.localName];
      if (nice === undefined || typeof impl !== "function") throw new Error(`${service.typeName}.${method.name}: no nice-grpc method ${method.localName}`);
      const bound = (impl as Implementation).bind(implementation);
      if (method.methodKind === "unary") router.rpc(method, unaryImpl(nice, bound, middleware) as MethodImpl<DescMethod>);
      else if (method.methodKind === "server_streaming") router.rpc(method, serverStreamingImpl(nice, bound, middleware) as MethodImpl<DescMethod>);
      // No client or bidi streaming methods exist in corral.v1 (browsers could not call them anyway).
      else throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} is not bridged`);
    }
  }
}
