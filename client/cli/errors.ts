// How the `corral` CLI words failures: gRPC errors as "<CODE NAME>: <details>", and an
// unreachable daemon as a hint to start one.
import { ClientError, Status } from "nice-grpc";

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
  if (error.code === Status.UNAVAILABLE) return `cannot reach the daemon at ${address} (is \`corral server\` running?)`;
  return `${codeName(error.code)}: ${error.details}`;
}
