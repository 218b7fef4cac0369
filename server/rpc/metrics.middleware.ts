// Server middleware that reports every call's start and its end (final status and duration),
// for the Prometheus metrics, whether it returned, failed or was cancelled.
import type { CallContext, ServerMiddlewareCall } from "nice-grpc";
import { isAbortError, statusName } from "./errors.js";

/** The method as the metrics label it: path ("/corral.v1.ProcessManager/GetProcess") and stream kinds. */
export interface ObservedMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

export interface CallObserver {
  started(method: ObservedMethod): void;
  /** code: "OK", "NOT_FOUND", ... */
  handled(method: ObservedMethod, code: string, seconds: number): void;
}

export function callMetricsMiddleware(observer: CallObserver) {
  return async function* callMetrics<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const start = performance.now();
    observer.started(call.method);
    let code = "OK";
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      code = isAbortError(error) || context.signal.aborted ? "CANCELLED" : statusName((error as { code?: unknown }).code);
      throw error;
    } finally {
      observer.handled(call.method, code, (performance.now() - start) / 1000);
    }
  };
}
