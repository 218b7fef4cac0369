// Why a call could not reach the daemon, in words a user can act on: when a call fails with
// UNAVAILABLE, the client probes the target itself (the socket file, a TCP connect, a TLS
// handshake with the same CA, name and certificate, an HTTP/2 preface) and names the problem,
// instead of gRPC's "No connection established". The problems and their messages are the same
// in the Python and Go clients (test/fixtures/connection-errors.json is the shared table).
import { createConnection, isIP, type Socket } from "node:net";
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { readFileSync } from "node:fs";
import { ClientError, Metadata, Status, type CallOptions, type ClientMiddlewareCall } from "nice-grpc";
import type { TlsClientOptions } from "./channel-credentials.js";
import { CorralClientError } from "./error-details.js";

/** A stable word for each problem (CorralClientError.connectionProblem). */
export type ConnectionProblem =
  | "SOCKET_MISSING"
  | "SOCKET_REFUSED"
  | "SOCKET_PERMISSION_DENIED"
  | "CONNECTION_REFUSED"
  | "TLS_EXPECTED"
  | "TLS_NOT_SPOKEN"
  | "TLS_SERVER_NAME"
  | "TLS_UNKNOWN_CA"
  | "TLS_CERT_EXPIRED"
  | "TLS_CLIENT_CERT_REFUSED";

export interface ConnectionDiagnosis {
  problem: ConnectionProblem;
  message: string;
}

/** Each probe step gives up after this long (the whole diagnosis takes at most a few of them). */
export const PROBE_TIMEOUT_MS = 3_000;

interface Facts {
  path?: string;
  address?: string;
  name?: string;
  trusted?: string;
  cert?: string;
}

const MESSAGES: Record<ConnectionProblem, (f: Facts) => string> = {
  SOCKET_MISSING: (f) => `no daemon at ${f.path}: the socket does not exist (start one with \`corral server\`, or check the address and CORRAL_HOME)`,
  SOCKET_REFUSED: (f) => `no daemon at ${f.path}: nothing listens on the socket (the daemon that made it is gone; start one with \`corral server\`)`,
  SOCKET_PERMISSION_DENIED: (f) =>
    `permission denied on the socket ${f.path}: the daemon's socket is for the user that runs it (mode 0600); connect as that user, or over TCP`,
  CONNECTION_REFUSED: (f) => `no daemon at ${f.address}: connection refused (is \`corral server\` running with this address in server.listen?)`,
  TLS_EXPECTED: (f) =>
    `the daemon at ${f.address} speaks TLS and this client connected without it: connect with TLS (and the CA that signed the daemon's certificate)`,
  TLS_NOT_SPOKEN: (f) => `the daemon at ${f.address} does not speak TLS (a plain listener): connect without TLS`,
  TLS_SERVER_NAME: (f) => `the daemon's certificate at ${f.address} is not valid for the name ${f.name}: connect with a TLS server name the certificate holds`,
  TLS_UNKNOWN_CA: (f) => `the daemon's certificate at ${f.address} is not signed by a CA this client trusts (${f.trusted}): connect with the CA that signed it`,
  TLS_CERT_EXPIRED: (f) => `the daemon's certificate at ${f.address} has expired: the daemon needs a renewed certificate (server.tls.cert)`,
  TLS_CLIENT_CERT_REFUSED: (f) =>
    `the daemon at ${f.address} refused this client's certificate ${f.cert} in the TLS handshake (expired, or not signed by the daemon's server.tls.client_ca)`,
};

/** OpenSSL's verification errors that mean "no trusted CA signed this" (node's error codes). */
const UNKNOWN_CA_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

/** The client preface of HTTP/2 plus an empty SETTINGS frame: a gRPC server answers with its SETTINGS. */
const H2_PREFACE = Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

type Outcome = { ok: true; socket: Socket } | { ok: false; error: NodeJS.ErrnoException };

/** Waits for `ready` on a socket (or its error, or the timeout), never throws. */
function settle(socket: Socket, ready: "connect" | "secureConnect"): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish({ ok: false, error: Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }) }), PROBE_TIMEOUT_MS);
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.removeAllListeners(ready);
      socket.removeAllListeners("error");
      // A late error after the outcome must not become an uncaught exception.
      socket.on("error", () => {});
      if (!outcome.ok) socket.destroy();
      resolve(outcome);
    };
    socket.once(ready, () => finish({ ok: true, socket }));
    socket.once("error", (error: NodeJS.ErrnoException) => finish({ ok: false, error }));
  });
}

/**
 * Sends the HTTP/2 preface. `h2`: the first frame back is SETTINGS (an HTTP/2 server);
 * `cut`: the peer closed the connection or failed it (an alert) before answering.
 */
function answersHttp2(socket: Socket): Promise<{ h2: boolean; cut: boolean }> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const finish = (result: { h2: boolean; cut: boolean }) => {
      clearTimeout(timer);
      socket.removeAllListeners("data");
      socket.removeAllListeners("error");
      socket.removeAllListeners("close");
      socket.on("error", () => {});
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ h2: false, cut: false }), PROBE_TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 9) finish({ h2: received[3] === 4, cut: false });
    });
    socket.once("error", () => finish({ h2: false, cut: true }));
    socket.once("close", () => finish({ h2: false, cut: true }));
    socket.write(H2_PREFACE);
  });
}

function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}

const diagnosis = (problem: ConnectionProblem, facts: Facts): ConnectionDiagnosis => ({ problem, message: MESSAGES[problem](facts) });

/**
 * Probes `target` (a resolved address: "unix:///abs/path" or "host:port") the way the channel
 * connects to it and names the problem; undefined when the probe finds nothing wrong (the
 * UNAVAILABLE then came from the daemon itself, e.g. while it shuts down) or cannot tell.
 */
export async function diagnoseConnection(target: string, tls?: TlsClientOptions): Promise<ConnectionDiagnosis | undefined> {
  if (target.startsWith("unix:")) {
    const path = `/${target.replace(/^unix:\/*/, "")}`;
    const outcome = await settle(createConnection(path), "connect");
    if (outcome.ok) {
      outcome.socket.destroy();
      return undefined;
    }
    const code = outcome.error.code;
    if (code === "ENOENT") return diagnosis("SOCKET_MISSING", { path });
    if (code === "ECONNREFUSED") return diagnosis("SOCKET_REFUSED", { path });
    if (code === "EACCES" || code === "EPERM") return diagnosis("SOCKET_PERMISSION_DENIED", { path });
    return undefined;
  }
  const address = target.replace(/^dns:\/*/, "");
  const hostPort = splitHostPort(address);
  if (!hostPort) return undefined;
  const tcp = await settle(createConnection(hostPort), "connect");
  if (!tcp.ok) return tcp.error.code === "ECONNREFUSED" ? diagnosis("CONNECTION_REFUSED", { address }) : undefined;
  tcp.socket.destroy();
  if (tls === undefined) {
    // A plain client: does the port speak TLS?
    const probe = await settle(tlsConnect({ ...hostPort, rejectUnauthorized: false, ALPNProtocols: ["h2"] }), "secureConnect");
    if (!probe.ok) return undefined;
    probe.socket.destroy();
    return diagnosis("TLS_EXPECTED", { address });
  }
  // The handshake the channel makes: same CA, name and client certificate.
  const name = tls.serverName || hostPort.host;
  const options: ConnectionOptions = {
    ...hostPort,
    ALPNProtocols: ["h2"],
    rejectUnauthorized: true,
    ...(isIP(name) === 0 ? { servername: name } : {}),
    // The certificate is checked against the given name, not the address's host.
    checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
  };
  try {
    if (tls.ca !== undefined) options.ca = readFileSync(tls.ca);
    if (tls.cert !== undefined && tls.key !== undefined) {
      options.cert = readFileSync(tls.cert);
      options.key = readFileSync(tls.key);
    }
  } catch {
    return undefined;
  }
  const handshake = await settle(tlsConnect(options), "secureConnect");
  if (handshake.ok) {
    // TLS 1.3: the daemon checks the client certificate after the client's side of the
    // handshake is done, and drops a refused one (or sends an alert) before any HTTP/2 frame.
    const { h2, cut } = await answersHttp2(handshake.socket);
    if (!h2 && cut && tls.cert !== undefined) return diagnosis("TLS_CLIENT_CERT_REFUSED", { address, cert: tls.cert });
    return undefined;
  }
  const code = handshake.error.code ?? "";
  if (code === "CERT_HAS_EXPIRED") return diagnosis("TLS_CERT_EXPIRED", { address });
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return diagnosis("TLS_SERVER_NAME", { address, name });
  if (UNKNOWN_CA_CODES.has(code))
    return diagnosis("TLS_UNKNOWN_CA", { address, trusted: tls.ca !== undefined ? `the CA file ${tls.ca}` : "the system's roots" });
  if (tls.cert !== undefined && /ALERT/i.test(code)) return diagnosis("TLS_CLIENT_CERT_REFUSED", { address, cert: tls.cert });
  // Not a TLS answer at all: is it a plain gRPC listener?
  const plain = await settle(createConnection(hostPort), "connect");
  if (!plain.ok) return undefined;
  return (await answersHttp2(plain.socket)).h2 ? diagnosis("TLS_NOT_SPOKEN", { address }) : undefined;
}

/**
 * Client middleware (outside errorDetailsMiddleware): an UNAVAILABLE call is rethrown as a
 * CorralClientError whose details name the problem the probe found. Only failed calls probe.
 */
export function connectionDiagnosisMiddleware(target: string, tls?: TlsClientOptions) {
  return async function* connectionDiagnosis<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    options: CallOptions,
  ): AsyncGenerator<Response, Response | void, undefined> {
    try {
      return yield* call.next(call.request, options);
    } catch (error) {
      if (!(error instanceof ClientError) || error.code !== Status.UNAVAILABLE) throw error;
      // Already named, or sent by the daemon itself (with a google.rpc.Status): it was reached.
      if (error instanceof CorralClientError && (error.connectionProblem !== undefined || error.status !== undefined)) throw error;
      const found = await diagnoseConnection(target, tls);
      if (found === undefined) throw error;
      throw new CorralClientError(error, error instanceof CorralClientError ? error.trailer : Metadata(), found);
    }
  };
}
