// The one way corral waits with a deadline or a cancellation: an AbortSignal passed down (as
// nice-grpc does), Node's timers/promises for sleeping, and one abort error.
import { setTimeout as sleepFor } from "node:timers/promises";

/**
 * The one abort error. Its name is "AbortError" because that is how nice-grpc (and rpc/errors.ts)
 * recognise a cancelled call and report CANCELLED; the signal's own reason is kept as `cause`.
 */
export class AbortError extends Error {
  override readonly name = "AbortError";
  constructor(message = "the operation was aborted", options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isAbortError(error: unknown): error is Error {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}

/**
 * What an aborted wait rejects with: a reason the aborter chose on purpose (an Error that is not
 * an abort, e.g. TaskStopError or a TimeoutError) is passed on as is; a plain abort() becomes
 * our AbortError.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && !isAbortError(reason)) return reason;
  return new AbortError(undefined, { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Calls listener once when signal aborts (at once if it already has); returns the function that
 * removes it, so a finished wait leaves no listener behind.
 */
export function onAbort(signal: AbortSignal | undefined, listener: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    listener();
    return () => undefined;
  }
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

/**
 * Sleeps ms; rejects with abortReason(signal) at once when the signal aborts. An unref'd sleep
 * (`unref: true`) does not keep the process alive by itself.
 */
export async function sleep(ms: number, signal?: AbortSignal, options: { unref?: boolean } = {}): Promise<void> {
  throwIfAborted(signal);
  try {
    await sleepFor(Math.max(0, ms), undefined, { signal, ref: options.unref !== true });
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw error;
  }
}

/**
 * Waits for promise, but no longer than timeoutMs (then rejects with onTimeout()) and no longer
 * than signal allows (then rejects with abortReason(signal)). timeoutMs undefined: no deadline.
 * The promise itself is not cancelled: what it stands for goes on (pass the signal down for that).
 */
export function withTimeout<T>(promise: PromiseLike<T>, options: { timeoutMs?: number; signal?: AbortSignal; onTimeout?: () => Error }): Promise<T> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (finish: () => void) => {
      clearTimeout(timer);
      removeAbort();
      finish();
    };
    const removeAbort = onAbort(signal, () => settle(() => reject(abortReason(signal!))));
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => settle(() => reject(options.onTimeout?.() ?? new Error(`timed out after ${timeoutMs} ms`))), Math.max(0, timeoutMs));
    }
    promise.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
