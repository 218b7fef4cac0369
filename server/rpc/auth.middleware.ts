// Server middleware that authenticates and authorizes every call before it reaches a service,
// and writes the audit log. Denials go through the one error mapping (toServerError).
import type { CallContext, ServerMiddlewareCall } from "nice-grpc";
import { PermissionDeniedError } from "../core/errors.js";
import type { AuditLog } from "./audit-log.js";
import type { Authenticator, Identity } from "./authenticator.js";
import { failCall, isAbortError, statusName, toServerError } from "./errors.js";
import { requirementOf, roleAllows } from "./method-roles.js";
import { PEER_SUBJECT_KEY, peerSubjectOf } from "./peer-certificate.interceptor.js";

export interface AuthMiddlewareOptions {
  /** undefined: the Unix socket, whose 0600 mode already limits it to the daemon's user (admin). */
  authenticator?: Authenticator;
  audit: AuditLog;
}

const LOCAL_SOCKET: Identity = { name: "local-socket", kind: "local-socket", role: "admin" };

/** Metadata key carrying the authenticated caller's name to the services (a lock's holder); a client's own value is replaced. */
export const CALLER_KEY = "x-corral-caller";

/** The caller's name as the audit log has it (token name, certificate subject, "local-socket", "anonymous"). */
export function callerOf(context: CallContext): string | undefined {
  return context.metadata.get(CALLER_KEY);
}

function codeOf(error: unknown, aborted: boolean): string {
  if (isAbortError(error) || aborted) return "CANCELLED";
  return statusName(toServerError(error).code);
}

export function authMiddleware(options: AuthMiddlewareOptions) {
  const { authenticator, audit } = options;
  return async function* auth<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const method = call.method.path;
    const needed = requirementOf(method);
    // Only this middleware says who the caller is.
    context.metadata.delete(CALLER_KEY);
    let identity: Identity;
    if (authenticator === undefined) {
      identity = LOCAL_SOCKET;
    } else if (needed === "open") {
      return yield* call.next(call.request, context);
    } else {
      try {
        identity = authenticator.identify({
          authorization: context.metadata.get("authorization"),
          subject: peerSubjectOf(context.metadata.get(PEER_SUBJECT_KEY)),
        });
      } catch (error) {
        const mapped = failCall(error, context, method);
        audit.write({ peer: context.peer, method, outcome: "denied", code: statusName(mapped.code), reason: mapped.details });
        throw mapped;
      }
    }
    context.metadata.set(CALLER_KEY, identity.name);
    if (!roleAllows(identity.role, needed)) {
      // An anonymous caller is one only because server.auth is not set: say which setting to change.
      const why =
        identity.kind === "anonymous"
          ? `TCP callers are read-only (role ${identity.role}) while server.auth is not set: give them tokens or client certificates in server.auth, or set server.auth: none to make every TCP caller admin`
          : `${identity.name} has role ${identity.role}`;
      const mapped = failCall(new PermissionDeniedError(`${method} needs role ${needed}; ${why}`, "ROLE_REQUIRED"), context, method);
      audit.write({
        peer: context.peer,
        identity: identity.name,
        role: identity.role,
        method,
        outcome: "denied",
        code: statusName(mapped.code),
        reason: mapped.details,
      });
      throw mapped;
    }
    // Reads are not audited: they change nothing and would drown the log.
    if (needed === "viewer" || needed === "open") return yield* call.next(call.request, context);
    let code = "OK";
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      code = codeOf(error, context.signal.aborted);
      throw error;
    } finally {
      audit.write({ peer: context.peer, identity: identity.name, role: identity.role, method, outcome: "allowed", code });
    }
  };
}
