// Server middleware that reports every call's method, final status and duration (for the
// Prometheus metrics), whether it returned, failed or was cancelled.
import type { CallContext, ServerMiddlewareCall } from "nice-grpc";
import { isAbortError, statusName } from "./errors.js";

/** method: the full path ("/corral.v1.ProcessManager/GetProcess"); code: "OK", "NOT_FOUND", ... */
export type CallObserver = (method: string, code: string, seconds: number) => void;

export function callMetricsMiddleware(observe: CallObserver) {
  return async function* callMetrics<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const start = performance.now();
    let code = "OK";
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      code = isAbortError(error) || context.signal.aborted ? "CANCELLED" : statusName((error as { code?: unknown }).code);
      throw error;
    } finally {
      observe(call.method.path, code, (performance.now() - start) / 1000);
    }
  };
}
