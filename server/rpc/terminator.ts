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
  // Each call's own controller, aborted by its client's signal or by terminate(). Not
  // AbortSignal.any([call, daemon]): on Node 20 that added every call's signal to the daemon
  // signal's dependents until a GC, and its listeners cost more per add/remove (streams add and
  // remove one per item they wait for). Made when the call first reads its signal: most unary
  // calls (GetProcess, ListProcesses) never do, and a controller and a listener per call were a
  // twentieth of a status call's CPU. terminate() aborts those made, and those made after it.
  const live = new Set<{ controller?: AbortController }>();
  let terminated = false;
  async function* middleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const entry: { controller?: AbortController } = {};
    const forward = () => entry.controller?.abort(context.signal.reason);
    const signalOf = (): AbortSignal => {
      if (entry.controller === undefined) {
        const controller = new AbortController();
        entry.controller = controller;
        if (context.signal.aborted) forward();
        else context.signal.addEventListener("abort", forward, { once: true });
        if (terminated) controller.abort();
      }
      return entry.controller.signal;
    };
    live.add(entry);
    const cutByShutdown = () => terminated && !context.signal.aborted;
    let result: Response | void;
    try {
      result = yield* call.next(call.request, {
        ...context,
        get signal() {
          return signalOf();
        },
      });
    } catch (error) {
      if (isAbortError(error) && cutByShutdown()) throw shuttingDown();
      throw error;
    } finally {
      live.delete(entry);
      if (entry.controller !== undefined) context.signal.removeEventListener("abort", forward);
    }
    if (call.responseStream && cutByShutdown()) throw shuttingDown();
    return result;
  }
  const terminate = () => {
    terminated = true;
    for (const { controller } of live) controller?.abort();
  };
  return { middleware, terminate };
}

function shuttingDown(): ServerError {
  return new ServerError(Status.UNAVAILABLE, "the corral daemon is shutting down");
}
