// Loop tasks (QMI's QMI_LoopTask): hooks run on a fixed grid. Iteration k is due at t0 + k*period;
// the first runs at once. After a miss, IMMEDIATE re-anchors the grid at now, SKIP keeps the
// grid's phase and drops the missed slots, TERMINATE ends the task cleanly. finalize always runs
// once prepare succeeded. The clock is injectable so the timing is tested exactly.
import { sleepUnlessStopped } from "./task.js";
import type { JsonValue, TaskContext } from "./types.js";

export type MissedLoopPolicy = "IMMEDIATE" | "SKIP" | "TERMINATE";
export const MISSED_LOOP_POLICIES: readonly MissedLoopPolicy[] = ["IMMEDIATE", "SKIP", "TERMINATE"];

/** What comes after an iteration: sleep until dueMs, or end (TERMINATE after a miss). */
export type LoopStep = { dueMs: number; missedSlots: number } | { terminate: true; missedSlots: number };

/** The loop's grid, as pure arithmetic on a monotonic clock (ms). */
export class LoopSchedule {
  private anchorMs: number;
  private index = 0;

  constructor(
    readonly periodMs: number,
    readonly policy: MissedLoopPolicy,
    startMs: number,
  ) {
    if (!(periodMs > 0)) throw new RangeError(`loop period must be > 0 ms, got ${periodMs}`);
    this.anchorMs = startMs;
  }

  /** When the current iteration was due. */
  get currentDueMs(): number {
    return this.anchorMs + this.index * this.periodMs;
  }

  /** Called when an iteration finished at nowMs: when the next one is due. */
  afterIteration(nowMs: number): LoopStep {
    const nextDue = this.anchorMs + (this.index + 1) * this.periodMs;
    if (nowMs <= nextDue) {
      this.index++;
      return { dueMs: nextDue, missedSlots: 0 };
    }
    // Late: the slots whose time has fully passed were missed.
    const slotsPassed = Math.ceil((nowMs - this.anchorMs) / this.periodMs); // first slot >= now
    const missedSlots = slotsPassed - (this.index + 1);
    switch (this.policy) {
      case "IMMEDIATE":
        this.anchorMs = nowMs;
        this.index = 0;
        return { dueMs: nowMs, missedSlots };
      case "SKIP":
        this.index = slotsPassed;
        return { dueMs: this.currentDueMs, missedSlots };
      case "TERMINATE":
        return { terminate: true, missedSlots };
    }
  }
}

export interface LoopClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Sleeps ms, ending at once (TaskStopError) when the task is asked to stop. */
  sleep(ms: number, ctx: TaskContext): Promise<void>;
}

export const realClock: LoopClock = {
  now: () => performance.now(),
  sleep: (ms, ctx) => sleepUnlessStopped(ms, ctx.signal),
};

/** Loop settings read from args by default: {period_ms, policy}. */
export interface LoopArgs {
  period_ms?: number;
  policy?: MissedLoopPolicy;
}

/**
 * Base class of loop task types. Subclasses override the hooks (all optional) and may set
 * loopPeriodMs / missedLoopPolicy in their constructor (the defaults read args.period_ms and
 * args.policy).
 */
export class LoopTask {
  static readonly loop = true;
  loopPeriodMs: number;
  missedLoopPolicy: MissedLoopPolicy;
  clock: LoopClock = realClock;
  /** The TERMINATE policy ended the loop (the outcome is still a clean completion). */
  terminatedByMissedLoop = false;

  constructor(args: JsonValue) {
    const a = (typeof args === "object" && args !== null && !Array.isArray(args) ? args : {}) as LoopArgs;
    const period = a.period_ms ?? 1000;
    if (typeof period !== "number" || !(period > 0)) throw Object.assign(new Error("must be a number > 0"), { field: "period_ms" });
    const policy = a.policy ?? "IMMEDIATE";
    if (!MISSED_LOOP_POLICIES.includes(policy)) {
      throw Object.assign(new Error(`must be one of ${MISSED_LOOP_POLICIES.join(", ")}`), { field: "policy" });
    }
    this.loopPeriodMs = period;
    this.missedLoopPolicy = policy;
  }

  /** Runs before the loop; a failure here ends the task without finalize. */
  loopPrepare(_ctx: TaskContext): unknown {
    return undefined;
  }
  /** Runs before an iteration when new settings were applied. */
  loopNewSettings(_settings: JsonValue, _ctx: TaskContext): unknown {
    return undefined;
  }
  loopIteration(_ctx: TaskContext): unknown {
    return undefined;
  }
  /** Returns the status to publish after an iteration (undefined: leave it). */
  loopStatus(_ctx: TaskContext): JsonValue | undefined | Promise<JsonValue | undefined> {
    return undefined;
  }
  /** Publishes the iteration's signals. */
  loopSignals(_ctx: TaskContext): unknown {
    return undefined;
  }
  /** Runs once after the loop (stop, failure or TERMINATE) if prepare succeeded. */
  loopFinalize(_ctx: TaskContext): unknown {
    return undefined;
  }

  async run(ctx: TaskContext): Promise<void> {
    await this.loopPrepare(ctx);
    try {
      const schedule = new LoopSchedule(this.loopPeriodMs, this.missedLoopPolicy, this.clock.now());
      while (!ctx.stopRequested) {
        if (ctx.updateSettings()) await this.loopNewSettings(ctx.settings, ctx);
        await this.loopIteration(ctx);
        const status = await this.loopStatus(ctx);
        if (status !== undefined) ctx.setStatus(status);
        await this.loopSignals(ctx);
        const step = schedule.afterIteration(this.clock.now());
        if ("terminate" in step) {
          this.terminatedByMissedLoop = true;
          return;
        }
        const waitMs = step.dueMs - this.clock.now();
        if (waitMs > 0) await this.clock.sleep(waitMs, ctx);
        else ctx.checkStop();
      }
    } finally {
      await this.loopFinalize(ctx);
    }
  }
}
