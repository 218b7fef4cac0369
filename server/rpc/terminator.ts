// Ends long-lived calls (FollowLogs, WatchEvents, health Watch) when the daemon shuts down, so a
// graceful server shutdown does not wait forever; clients get UNAVAILABLE and may reconnect.
import { ServerError, Status, type CallContext, type ServerMiddleware, type ServerMiddlewareCall } from "nice-grpc";
import { isAbortError } from "./errors.js";

export interface Terminator {
  /** Attach to every server; it hands each call a signal that also aborts on terminate(). */
  readonly middleware: ServerMiddleware;
  /** Aborts every call still running (and every later one). */
  terminate(): void;
}

export function createTerminator(): Terminator {
  const controller = new AbortController();
  async function* middleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const signal = AbortSignal.any([context.signal, controller.signal]);
    // Only our own terminate() is reported as UNAVAILABLE; a client's cancel stays a cancel.
    const cutByShutdown = () => controller.signal.aborted && !context.signal.aborted;
    let result: Response | void;
    try {
      result = yield* call.next(call.request, { ...context, signal });
    } catch (error) {
      if (isAbortError(error) && cutByShutdown()) throw shuttingDown();
      throw error;
    }
    // A stream cut short by terminate() must not look like a complete, clean end to the client.
    if (call.responseStream && cutByShutdown()) throw shuttingDown();
    return result;
  }
  return { middleware, terminate: () => controller.abort() };
}

function shuttingDown(): ServerError {
  return new ServerError(Status.UNAVAILABLE, "the corral daemon is shutting down");
}
