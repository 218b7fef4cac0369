// An HTTP listener under the gRPC TCP listeners' rules, for /metrics and the web dashboard:
// beyond loopback only with TLS and authentication (or --insecure, warned about), HTTPS whenever
// server.tls is set (HTTP/2 with an HTTP/1.1 fallback; client certificates checked against
// client_ca), and every caller identified by the same authenticator as a gRPC caller.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Authenticator, Identity } from "./authenticator.js";
import type { CertificateSubject } from "./peer-certificate.interceptor.js";
import { checkListenerSecurity, parseListenAddress, type RpcServerOptions } from "./server.js";
import { checkPem, readPem } from "./tls-credentials.js";

// The config's types, as the gRPC server takes them (rpc does not import config/).
type TlsServerConfig = NonNullable<RpcServerOptions["tls"]>;
type AuthConfig = NonNullable<RpcServerOptions["auth"]>;

export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;

export interface HttpListenerOptions {
  /** "host:port" (port 0 picks one). */
  listen: string;
  /** The config field, for errors: "metrics.listen", "web.listen". */
  field: string;
  tls?: TlsServerConfig;
  auth?: AuthConfig;
  authNone?: boolean;
  insecure?: boolean;
  warn?: (line: string) => void;
  handler: (request: HttpRequest, response: HttpResponse) => void;
}

export interface HttpListener {
  /** "http://host:port" or "https://host:port", with the real port. */
  readonly origin: string;
  readonly loopback: boolean;
  /** Closes the listener and every connection still open (streams included). */
  close(): Promise<void>;
}

export async function startHttpListener(options: HttpListenerOptions): Promise<HttpListener> {
  const address = parseListenAddress(options.listen, options.field);
  checkListenerSecurity([address], options, options.field);
  const server = options.tls
    ? createSecureServer({ allowHTTP1: true, ...(await tlsOptions(options.tls)) }, options.handler)
    : createHttpServer(options.handler);
  // Both kinds of server keep connections open (keep-alive, HTTP/2 sessions, streams): close() ends them.
  const sockets = new Set<Socket>();
  server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const host = address.host.replace(/^\[(.*)\]$/, "$1");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls ? "https" : "http"}://${address.host}:${port}`,
    loopback: address.loopback,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Node's TLS options from server.tls: a client certificate is asked for when client_ca is set, required when require_client_cert. */
async function tlsOptions(tls: TlsServerConfig) {
  const cert = await readPem(tls.certPath, "server.tls.cert");
  const key = await readPem(tls.keyPath, "server.tls.key");
  checkPem(cert, "certificate", tls.certPath, "server.tls.cert");
  checkPem(key, "key", tls.keyPath, "server.tls.key");
  if (tls.clientCaPath === undefined) return { cert, key };
  const ca = await readPem(tls.clientCaPath, "server.tls.client_ca");
  checkPem(ca, "certificate", tls.clientCaPath, "server.tls.client_ca");
  return { cert, key, ca, requestCert: true, rejectUnauthorized: tls.requireClientCert };
}

/** The verified client certificate's subject (only a certificate that chained to client_ca counts). */
export function peerSubjectOf(request: HttpRequest): CertificateSubject | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== "function") return undefined;
  const subject = socket.getPeerCertificate().subject as CertificateSubject | undefined;
  return subject && Object.keys(subject).length > 0 ? subject : undefined;
}

const connectionIds = new WeakMap<object, string>();
let nextConnectionId = 1;

/** One id per HTTP/2 session or HTTP/1.1 connection (the stream limiter's max_per_connection key). */
export function connectionIdOf(request: HttpRequest): string {
  const key: object = ("stream" in request && request.stream?.session) || request.socket;
  let id = connectionIds.get(key);
  if (id === undefined) {
    id = `web connection ${nextConnectionId++}`;
    connectionIds.set(key, id);
  }
  return id;
}

/** "address:port" of the caller, for the audit log. */
export function peerAddressOf(request: HttpRequest): string {
  return `${request.socket.remoteAddress ?? "unknown"}:${request.socket.remotePort ?? 0}`;
}

/** The caller's identity by the daemon's rules (bearer token or client certificate); throws UnauthenticatedError. */
export function identifyHttpCaller(authenticator: Authenticator, request: HttpRequest): Identity {
  const authorization = request.headers.authorization;
  return authenticator.identify({ authorization: typeof authorization === "string" ? authorization : undefined, subject: peerSubjectOf(request) });
}
