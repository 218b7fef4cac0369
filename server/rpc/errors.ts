// The one place where core errors become gRPC statuses, and the server middleware that applies
// it to every call, so service methods simply let core errors propagate.
import { ServerError, Status, type CallContext, type ServerMiddlewareCall } from "nice-grpc";
import { ConfigError } from "../config/load.js";
import { CorralError, WrongStateError } from "../core/errors.js";
import { isAbortError } from "../core/os/abort.js";

/** The trailer that names why a FAILED_PRECONDITION refused (see WrongStateReason). */
export const REASON_TRAILER = "corral-reason";

const STATUS_OF_KIND: Record<CorralError["kind"], Status> = {
  not_found: Status.NOT_FOUND,
  invalid_argument: Status.INVALID_ARGUMENT,
  wrong_state: Status.FAILED_PRECONDITION,
  already_exists: Status.ALREADY_EXISTS,
  timeout: Status.DEADLINE_EXCEEDED,
  permission_denied: Status.PERMISSION_DENIED,
  unauthenticated: Status.UNAUTHENTICATED,
  resource_exhausted: Status.RESOURCE_EXHAUSTED,
  internal: Status.INTERNAL,
};

/** A gRPC status code's name ("OK", "NOT_FOUND", ...) for logs and metrics; "UNKNOWN" for anything else. */
export function statusName(code: unknown): string {
  return typeof code === "number" ? (Status[code] ?? "UNKNOWN") : "UNKNOWN";
}

// AbortError (core/os/abort.ts) is how a cancelled call unwinds; nice-grpc reports it as CANCELLED by itself.
export { isAbortError };

/**
 * Maps any error thrown below the rpc layer to the ServerError sent to the client.
 * Unexpected errors become INTERNAL with their message, and are logged: they are bugs.
 */
export function toServerError(error: unknown, path = "?"): ServerError {
  if (error instanceof ServerError) return error;
  if (error instanceof ConfigError) {
    const count = error.problems.length;
    return new ServerError(Status.INVALID_ARGUMENT, `invalid config, nothing was changed (${count} problem${count === 1 ? "" : "s"}):\n${error.message}`);
  }
  if (error instanceof CorralError) {
    if (error.kind === "internal") console.error(`corral: ${path}: internal error:`, error);
    return new ServerError(STATUS_OF_KIND[error.kind] ?? Status.INTERNAL, error.message);
  }
  console.error(`corral: ${path}: unexpected error:`, error);
  const message = error instanceof Error ? error.message : String(error);
  return new ServerError(Status.INTERNAL, message || "internal error");
}

/** Server middleware: maps errors of unary and streaming calls alike; leaves client cancels alone. */
export async function* errorMiddleware<Request, Response>(
  call: ServerMiddlewareCall<Request, Response>,
  context: CallContext,
): AsyncGenerator<Response, Response | void, undefined> {
  try {
    return yield* call.next(call.request, context);
  } catch (error) {
    if (isAbortError(error)) throw error;
    if (error instanceof WrongStateError && error.reason) context.trailer.set(REASON_TRAILER, error.reason);
    throw toServerError(error, call.method.path);
  }
}
