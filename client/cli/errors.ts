// How the `corral` CLI words failures: gRPC errors as "<CODE NAME>: <details>", and a daemon
// that cannot be reached as the client's diagnosis (missing socket, TLS mismatch, ...), or else
// a hint to start one.
import { ClientError, Status } from "nice-grpc";
import { CorralClientError } from "../ts/error-details.js";

/** "NOT_FOUND", "UNAVAILABLE", ... */
export function codeName(code: number): string {
  return Status[code] ?? `code ${code}`;
}

export function isUnavailable(error: unknown): boolean {
  return error instanceof ClientError && error.code === Status.UNAVAILABLE;
}

/** The line printed (after "corral: ") for an error of a call, or undefined if it is not a gRPC error. */
export function describeCallError(error: unknown, address: string): string | undefined {
  if (!(error instanceof ClientError)) return undefined;
  // The client probed the target and named the problem: its message says what to do.
  if (error instanceof CorralClientError && error.connectionProblem !== undefined) return error.details;
  if (error.code === Status.UNAVAILABLE) return `cannot reach the daemon at ${address} (is \`corral server\` running?)`;
  return `${codeName(error.code)}: ${error.details}`;
}
