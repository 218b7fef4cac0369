// The one place where core errors become gRPC statuses, and the server middleware that applies
// it to every call, so service methods simply let core errors propagate. Each status also goes
// out as a google.rpc.Status in the `grpc-status-details-bin` trailer (the gRPC convention that
// grpcio-status, Go's status.FromError and grpcurl read): ErrorInfo with a stable reason always,
// BadRequest for bad input and config problems, PreconditionFailure and ResourceInfo where they fit.
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { ServerError, Status, type CallContext, type ServerMiddlewareCall } from "nice-grpc";
import {
  BadRequest_FieldViolationSchema,
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  ResourceInfoSchema,
} from "../../gen/ts/google/rpc/error_details_pb.js";
import { StatusSchema, type Status as RpcStatus } from "../../gen/ts/google/rpc/status_pb.js";
import { ConfigError, type ConfigProblem } from "../core/config-error.js";
import { CorralError, formatValue, InvalidArgumentError } from "../core/errors.js";
import { isAbortError } from "../core/os/abort.js";

/** ErrorInfo.domain of every corral error: reasons are unique within it. */
export const ERROR_DOMAIN = "corral.dev";
/** The trailer that carries the serialized google.rpc.Status. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

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

/** A ServerError that also carries its google.rpc.Status (code, message and typed details). */
export class DetailedServerError extends ServerError {
  constructor(readonly status: RpcStatus) {
    super(status.code as Status, status.message);
  }
}

/** A gRPC status code's name ("OK", "NOT_FOUND", ...) for logs and metrics; "UNKNOWN" for anything else. */
export function statusName(code: unknown): string {
  return typeof code === "number" ? (Status[code] ?? "UNKNOWN") : "UNKNOWN";
}

// AbortError (core/os/abort.ts) is how a cancelled call unwinds; nice-grpc reports it as CANCELLED by itself.
export { isAbortError };

function errorInfo(reason: string, metadata: Record<string, string> = {}): Any {
  return anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason, domain: ERROR_DOMAIN, metadata }));
}

function configViolation(problem: ConfigProblem) {
  const position = problem.line === undefined ? "" : `:${problem.line}:${problem.column ?? 1}`;
  const value = problem.value === undefined ? "" : ` (value ${formatValue(problem.value)})`;
  return create(BadRequest_FieldViolationSchema, {
    field: problem.field,
    description: `${problem.file}${position}: ${problem.rule}${value}`,
    reason: "CONFIG_INVALID",
  });
}

function status(code: Status, message: string, details: Any[]): RpcStatus {
  return create(StatusSchema, { code, message, details });
}

/**
 * The google.rpc.Status for any error thrown below the rpc layer.
 * Unexpected errors become INTERNAL with their message, and are logged: they are bugs.
 */
export function toRpcStatus(error: unknown, path = "?"): RpcStatus {
  if (error instanceof DetailedServerError) return error.status;
  if (error instanceof ServerError) return status(error.code, error.details, []);
  if (error instanceof ConfigError) {
    const count = error.problems.length;
    const message = `invalid config, nothing was changed (${count} problem${count === 1 ? "" : "s"}):\n${error.message}`;
    return status(Status.INVALID_ARGUMENT, message, [
      errorInfo("CONFIG_INVALID", { problems: String(count), ...(error.problems[0] ? { file: error.problems[0].file } : {}) }),
      anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: error.problems.map(configViolation) })),
    ]);
  }
  if (error instanceof CorralError) {
    if (error.kind === "internal") console.error(`corral: ${path}: internal error:`, error);
    const details: Any[] = [errorInfo(error.reason, error.metadata)];
    if (error instanceof InvalidArgumentError) {
      const violation = create(BadRequest_FieldViolationSchema, {
        field: error.field,
        description: `value ${formatValue(error.value)}: ${error.rule}`,
        reason: error.reason,
      });
      details.push(anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [violation] })));
    }
    if (error.precondition) {
      const { type, subject, description } = error.precondition;
      details.push(anyPack(PreconditionFailureSchema, create(PreconditionFailureSchema, { violations: [{ type, subject, description }] })));
    }
    if (error.resource) {
      const { type, name } = error.resource;
      details.push(anyPack(ResourceInfoSchema, create(ResourceInfoSchema, { resourceType: type, resourceName: name, description: error.message })));
    }
    return status(STATUS_OF_KIND[error.kind] ?? Status.INTERNAL, error.message, details);
  }
  console.error(`corral: ${path}: unexpected error:`, error);
  const message = error instanceof Error ? error.message : String(error);
  return status(Status.INTERNAL, message || "internal error", [errorInfo("INTERNAL")]);
}

/** Maps any error thrown below the rpc layer to the ServerError sent to the client (see toRpcStatus). */
export function toServerError(error: unknown, path = "?"): DetailedServerError {
  if (error instanceof DetailedServerError) return error;
  return new DetailedServerError(toRpcStatus(error, path));
}

/** toServerError, plus the details trailer on this call: what a middleware throws. */
export function failCall(error: unknown, context: CallContext, path: string): DetailedServerError {
  const mapped = toServerError(error, path);
  if (mapped.status.details.length > 0) context.trailer.set(STATUS_DETAILS_KEY, toBinary(StatusSchema, mapped.status));
  return mapped;
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
    throw failCall(error, context, call.method.path);
  }
}
