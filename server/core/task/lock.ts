// One task's lock (QMI's RPC lock, with a lease): a token holds it; a waiter is woken when it
// frees (no polling); a lease that is not renewed expires, so a crashed holder cannot keep it.
import { randomUUID } from "node:crypto";
import { WrongStateError } from "../errors.js";
import { withTimeout } from "../os/abort.js";

export interface LockGrant {
  granted: boolean;
  token: string;
  expiresAt: Date | undefined;
}

export interface LockEvents {
  locked(token: string): void;
  unlocked(reason: "unlock" | "force"): void;
  expired(): void;
}

export class TaskLock {
  private token: string | undefined;
  private holderName: string | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private leaseExpiresAt: Date | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly taskName: string,
    private readonly events: LockEvents,
  ) {}

  get locked(): boolean {
    return this.token !== undefined;
  }

  get expiresAt(): Date | undefined {
    return this.leaseExpiresAt;
  }

  /** Who took the lock, as the caller was identified (never the token); undefined when unlocked. */
  get holder(): string | undefined {
    return this.token === undefined ? undefined : this.holderName;
  }

  /** Refuses a call that drives the task unless it is unlocked or the token matches. */
  check(token: string | undefined): void {
    if (this.token !== undefined && token !== this.token) {
      throw new WrongStateError(`task "${this.taskName}" is locked by another client; pass its lock token, or ForceUnlock it`, "TASK_LOCKED", {
        subject: `task/${this.taskName}`,
        type: "LOCK",
        metadata: { task: this.taskName },
      });
    }
  }

  /**
   * Takes the lock (or renews it when token is the holder's), waiting up to timeoutMs while
   * someone else holds it. Not granted after the wait: granted=false.
   */
  async lock(opts: { timeoutMs?: number; token?: string; leaseMs?: number; signal?: AbortSignal; holder?: string }): Promise<LockGrant> {
    const token = opts.token || randomUUID();
    const deadline = performance.now() + (opts.timeoutMs ?? 0);
    while (this.token !== undefined && this.token !== token) {
      const left = deadline - performance.now();
      if (left <= 0 || opts.signal?.aborted) return { granted: false, token: "", expiresAt: undefined };
      await this.waitForFree(left, opts.signal);
    }
    const renewal = this.token === token;
    this.token = token;
    // A renewal keeps the first holder's name: sharing a token shares the lock, not the credit.
    if (!renewal) this.holderName = opts.holder;
    this.setLease(opts.leaseMs);
    if (!renewal) this.events.locked(token);
    return { granted: true, token, expiresAt: this.leaseExpiresAt };
  }

  /** Releases the lock held with token; false when it was not locked; wrong token: FAILED_PRECONDITION. */
  unlock(token: string): boolean {
    if (this.token === undefined) return false;
    if (token !== this.token)
      throw new WrongStateError(`task "${this.taskName}" is locked with another token`, "LOCK_NOT_HOLDER", {
        subject: `task/${this.taskName}`,
        type: "LOCK",
        metadata: { task: this.taskName },
      });
    this.release();
    this.events.unlocked("unlock");
    return true;
  }

  /** Releases the lock whoever holds it; returns whether it was locked. */
  forceUnlock(): boolean {
    if (this.token === undefined) return false;
    this.release();
    this.events.unlocked("force");
    return true;
  }

  /** Drops the lock without signals (the task is being removed). */
  dispose(): void {
    this.release();
  }

  private setLease(leaseMs: number | undefined): void {
    clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    this.leaseExpiresAt = undefined;
    if (leaseMs === undefined || leaseMs <= 0) return;
    this.leaseExpiresAt = new Date(Date.now() + leaseMs);
    this.leaseTimer = setTimeout(() => {
      this.leaseTimer = undefined;
      this.release();
      this.events.expired();
    }, leaseMs);
    this.leaseTimer.unref();
  }

  private release(): void {
    clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    this.leaseExpiresAt = undefined;
    this.token = undefined;
    this.holderName = undefined;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves when the lock is released, ms pass, or signal aborts, whichever comes first (the caller looks again). */
  private async waitForFree(ms: number, signal: AbortSignal | undefined): Promise<void> {
    let wake: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    try {
      await withTimeout(released, { timeoutMs: ms, signal });
    } catch {
      // timed out or aborted: lock() decides what that means
    } finally {
      this.waiters.delete(wake);
    }
  }
}
