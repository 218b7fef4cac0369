// Typed error details on the client: the daemon sends a google.rpc.Status in the
// `grpc-status-details-bin` trailer; this middleware decodes it and throws a CorralClientError
// (a nice-grpc ClientError) with the ErrorInfo reason, BadRequest, PreconditionFailure and
// ResourceInfo as fields. errorDetails(error) reads them from any caught error.
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyIs, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { ClientError, Metadata, type Status, type CallOptions, type ClientMiddlewareCall } from "nice-grpc";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  ResourceInfoSchema,
  type BadRequest,
  type ErrorInfo,
  type PreconditionFailure,
  type ResourceInfo,
} from "../../gen/ts/google/rpc/error_details_pb.js";
import { StatusSchema, type Status as RpcStatus } from "../../gen/ts/google/rpc/status_pb.js";
import type { ConnectionDiagnosis, ConnectionProblem } from "./connection-problems.js";

export type { BadRequest, ErrorInfo, PreconditionFailure, ResourceInfo, RpcStatus };

/** The trailer that carries the serialized google.rpc.Status. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";
/** ErrorInfo.domain of corral's errors. */
export const ERROR_DOMAIN = "corral.dev";

/** The typed details of a failed call (all undefined when the server sent none). */
export interface ErrorDetails {
  /** The google.rpc.Status as sent. */
  status?: RpcStatus;
  /** ErrorInfo.reason: a stable word such as PROGRAM_NOT_FOUND or TASK_LOCKED (README lists them). */
  reason?: string;
  errorInfo?: ErrorInfo;
  badRequest?: BadRequest;
  preconditionFailure?: PreconditionFailure;
  resourceInfo?: ResourceInfo;
}

function unpack<Desc extends DescMessage>(details: Any[], schema: Desc): MessageShape<Desc> | undefined {
  const found = details.find((any) => anyIs(any, schema));
  return found ? anyUnpack(found, schema) : undefined;
}

/** The typed details of a google.rpc.Status (e.g. ProgramResult.status of StartAll). */
export function detailsOfStatus(status: RpcStatus): ErrorDetails {
  const errorInfo = unpack(status.details, ErrorInfoSchema);
  return {
    status,
    reason: errorInfo?.reason,
    errorInfo,
    badRequest: unpack(status.details, BadRequestSchema),
    preconditionFailure: unpack(status.details, PreconditionFailureSchema),
    resourceInfo: unpack(status.details, ResourceInfoSchema),
  };
}

/** Decodes the details trailer; undefined when absent or not a google.rpc.Status. */
export function detailsOfTrailer(trailer: Metadata | undefined): ErrorDetails | undefined {
  const bytes = trailer?.get(STATUS_DETAILS_KEY);
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return detailsOfStatus(fromBinary(StatusSchema, bytes));
  } catch {
    return undefined;
  }
}

/** A ClientError with the call's trailer and its typed details. */
export class CorralClientError extends ClientError implements ErrorDetails {
  readonly status?: RpcStatus;
  readonly reason?: string;
  readonly errorInfo?: ErrorInfo;
  readonly badRequest?: BadRequest;
  readonly preconditionFailure?: PreconditionFailure;
  readonly resourceInfo?: ResourceInfo;
  /**
   * Why the daemon could not be reached (UNAVAILABLE only; undefined when the client's probe found
   * nothing wrong): SOCKET_MISSING, TLS_SERVER_NAME, ... (README: "When a client cannot connect").
   * `details` is then the message of that problem, and `transportDetails` what gRPC said.
   */
  readonly connectionProblem?: ConnectionProblem;
  readonly transportDetails?: string;

  constructor(
    error: ClientError,
    /** The trailing metadata the server sent with the failure. */
    readonly trailer: Metadata,
    diagnosis?: ConnectionDiagnosis,
  ) {
    super(error.path, error.code, diagnosis?.message ?? error.details);
    this.name = "CorralClientError";
    Object.assign(this, detailsOfTrailer(trailer) ?? {});
    if (diagnosis) {
      this.connectionProblem = diagnosis.problem;
      this.transportDetails = error.details;
    }
  }
}

/**
 * The typed details of a caught error: a CorralClientError's fields; {} for other errors, so
 * `errorDetails(e).reason === "TASK_LOCKED"` reads well in a catch block.
 */
export function errorDetails(error: unknown): ErrorDetails {
  if (error instanceof CorralClientError) {
    const { status, reason, errorInfo, badRequest, preconditionFailure, resourceInfo } = error;
    return { status, reason, errorInfo, badRequest, preconditionFailure, resourceInfo };
  }
  return {};
}

/** True when error is a ClientError with this code (and, if given, this ErrorInfo reason). */
export function isCorralError(error: unknown, code: Status, reason?: string): error is CorralClientError {
  return error instanceof ClientError && error.code === code && (reason === undefined || errorDetails(error).reason === reason);
}

/** Client middleware: keeps the trailer of each call and rethrows failures as CorralClientError. */
export async function* errorDetailsMiddleware<Request, Response>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions,
): AsyncGenerator<Response, Response | void, undefined> {
  let trailer: Metadata | undefined;
  const { onTrailer } = options;
  try {
    return yield* call.next(call.request, {
      ...options,
      onTrailer: (received) => {
        trailer = received;
        onTrailer?.(received);
      },
    });
  } catch (error) {
    if (error instanceof ClientError && !(error instanceof CorralClientError)) throw new CorralClientError(error, trailer ?? Metadata());
    throw error;
  }
}
