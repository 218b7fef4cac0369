// Waits on a subject's observable state: each waiter's test is checked at once and after every
// change the owner reports (wake); a wait ends when its test holds, its deadline passes or its
// signal aborts, and leaves nothing behind.
import { withTimeout } from "../os/abort.js";

type Waiter<T> = { test: (subject: T) => boolean; resolve: () => void };

export class StateWaiters<T> {
  private readonly waiters = new Set<Waiter<T>>();

  constructor(private readonly subject: T) {}

  /** Resolves when test(subject) holds; onTimeout() says why not after timeoutMs. */
  wait(test: (subject: T) => boolean, options: { timeoutMs: number; signal?: AbortSignal; onTimeout: () => Error }): Promise<void> {
    if (test(this.subject)) return Promise.resolve();
    const waiter: Waiter<T> = { test, resolve: () => undefined };
    const holds = new Promise<void>((resolve) => (waiter.resolve = resolve));
    this.waiters.add(waiter);
    return withTimeout(holds, options).finally(() => this.waiters.delete(waiter));
  }

  /** The subject changed: resolve the waits whose test holds now. */
  wake(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test(this.subject)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}
