// nice-grpc's CallContext does not expose the TLS peer certificate, so this grpc-js server
// interceptor copies the verified client certificate's subject into the call's metadata, where
// the auth middleware reads it. Any value a client sent under that key is dropped first.
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";

/** Metadata key carrying the peer certificate subject (URI-encoded JSON of tls's subject object). */
export const PEER_SUBJECT_KEY = "x-corral-verified-peer-subject";

export type CertificateSubject = Record<string, string | string[]>;

export const peerCertificateInterceptor: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, nextMetadata) => {
          metadata.remove(PEER_SUBJECT_KEY);
          // grpc-js gives a certificate only when the TLS socket verified it against client_ca.
          const certificate = call.getAuthContext().sslPeerCertificate;
          if (certificate?.subject) metadata.set(PEER_SUBJECT_KEY, encodeURIComponent(JSON.stringify(certificate.subject)));
          nextMetadata(metadata);
        },
      }),
  });

/** The subject stamped by the interceptor, or undefined without a verified certificate. */
export function peerSubjectOf(value: string | undefined): CertificateSubject | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(decodeURIComponent(value));
    return typeof parsed === "object" && parsed !== null ? (parsed as CertificateSubject) : undefined;
  } catch {
    return undefined;
  }
}
