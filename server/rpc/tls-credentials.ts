// Builds the grpc-js server credentials of a TCP listener from server.tls (PEM files). Errors
// name the file and what is wrong with it, never its contents.
import { readFile } from "node:fs/promises";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { ServerCredentials, experimental } from "@grpc/grpc-js";
import type { TlsServerConfig } from "../core/access.js";
import { InvalidArgumentError } from "../core/errors.js";

export async function readPem(path: string, field: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InvalidArgumentError(field, path, `cannot read the PEM file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** Fails early, at start, on files that are not what they claim to be (grpc-js would only fail per connection). */
export function checkPem(pem: Buffer, kind: "certificate" | "key", path: string, field: string): void {
  try {
    if (kind === "certificate") new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    throw new InvalidArgumentError(field, path, `is not a PEM ${kind === "certificate" ? "certificate" : "private key"}`);
  }
}

/**
 * A certificate provider that hands out fixed PEMs, for grpc-js's optional-client-certificate mode.
 * It answers on a later tick: grpc-js registers its own watcher only after adding our listeners,
 * so a synchronous answer would be lost and every connection dropped as "credentials not loaded".
 */
function staticProvider(update: { ca?: Buffer; certificate?: Buffer; privateKey?: Buffer }): experimental.CertificateProvider {
  return {
    addCaCertificateListener: (listener) => queueMicrotask(() => listener(update.ca ? { caCertificate: update.ca } : null)),
    removeCaCertificateListener: () => {},
    addIdentityCertificateListener: (listener) =>
      queueMicrotask(() => listener(update.certificate && update.privateKey ? { certificate: update.certificate, privateKey: update.privateKey } : null)),
    removeIdentityCertificateListener: () => {},
  };
}

export async function serverCredentials(tls: TlsServerConfig): Promise<ServerCredentials> {
  const cert = await readPem(tls.certPath, "server.tls.cert");
  const key = await readPem(tls.keyPath, "server.tls.key");
  checkPem(cert, "certificate", tls.certPath, "server.tls.cert");
  checkPem(key, "key", tls.keyPath, "server.tls.key");
  if (tls.clientCaPath === undefined) return ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
  const ca = await readPem(tls.clientCaPath, "server.tls.client_ca");
  checkPem(ca, "certificate", tls.clientCaPath, "server.tls.client_ca");
  // Required: the TLS handshake itself refuses a missing, foreign or expired client certificate.
  if (tls.requireClientCert) return ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true);
  // Optional: a client certificate is asked for but not required (token callers have none); grpc-js
  // reports a peer certificate only when it verified against the CA, so a bad one identifies no one.
  return experimental.createCertificateProviderServerCredentials(staticProvider({ certificate: cert, privateKey: key }), staticProvider({ ca }), false);
}
