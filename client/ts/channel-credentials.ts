// What connect() needs to reach a daemon over TLS and to present a bearer token: channel
// credentials from PEM files and a client middleware that adds the token to every call.
import { readFileSync } from "node:fs";
import { ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { Metadata, type ClientMiddleware } from "nice-grpc";

/** PEM file paths for a TLS connection. */
export interface TlsClientOptions {
  /** CA that signed the daemon's certificate (default: the system's roots). */
  ca?: string;
  /** Client certificate and its key, for mTLS. */
  cert?: string;
  key?: string;
  /** Name to check the daemon's certificate against, when the address is not that name (e.g. an IP). */
  serverName?: string;
}

function readFileFor(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

export function tlsChannel(tls: TlsClientOptions): { credentials: ChannelCredentials; options: ChannelOptions } {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error("TLS client certificate and key go together: give both (--tls-cert and --tls-key) or neither");
  }
  const credentials = ChannelCredentials.createSsl(
    tls.ca !== undefined ? readFileFor(tls.ca, "TLS CA file") : null,
    tls.key !== undefined ? readFileFor(tls.key, "TLS key file") : null,
    tls.cert !== undefined ? readFileFor(tls.cert, "TLS certificate file") : null,
  );
  const options: ChannelOptions = tls.serverName ? { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName } : {};
  return { credentials, options };
}

/** The token in a file: its first line, trimmed (a trailing newline is what editors leave). */
export function readTokenFile(path: string): string {
  const token = (readFileFor(path, "token file").toString("utf8").split(/\r?\n/)[0] ?? "").trim();
  if (token === "") throw new Error(`the token file ${path} is empty`);
  return token;
}

/**
 * Sends `authorization: Bearer <token>` with every call. A middleware rather than call
 * credentials: grpc-js refuses call credentials on plain channels (loopback TCP may be plain).
 */
export function bearerTokenMiddleware(token: string): ClientMiddleware {
  const header = `Bearer ${token}`;
  return async function* bearerToken(call, options) {
    const metadata = Metadata(options.metadata);
    metadata.set("authorization", header);
    return yield* call.next(call.request, { ...options, metadata });
  };
}
