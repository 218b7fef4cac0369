// Loop tasks (QMI's QMI_LoopTask): hooks run on a fixed grid; the first iteration runs at once and
// iteration k is due at t0 + k*period while on time. A miss is an iteration that ends at or after
// the next due time. After a miss, exactly as QMI: IMMEDIATE runs the next iteration at once and
// re-anchors the grid there; SKIP runs the next iteration at once too and then returns to the
// original grid, dropping the slots that passed (floor((period + late) / period) of them);
// TERMINATE ends the task (outcome reason "missed_loop"). Every miss publishes "missed_loop".
// finalize always runs once prepare succeeded. The clock is injectable so the timing is tested exactly.
import { sleepUnlessStopped } from "./task-context.js";
import type { JsonValue, MissedLoop, TaskContext } from "./types.js";

export type MissedLoopPolicy = "IMMEDIATE" | "SKIP" | "TERMINATE";
export const MISSED_LOOP_POLICIES: readonly MissedLoopPolicy[] = ["IMMEDIATE", "SKIP", "TERMINATE"];

/** What comes after an iteration: sleep until dueMs (at once when dueMs <= now), or end (TERMINATE after a miss). */
export type LoopStep = { dueMs: number; missedSlots: number; lateMs: number } | { terminate: true; missedSlots: number; lateMs: number };

/**
 * The loop's grid as QMI computes it, pure arithmetic on a monotonic clock (ms): nextMs is when
 * the iteration after the current one is due.
 */
export class LoopSchedule {
  private nextMs: number;

  constructor(
    readonly periodMs: number,
    readonly policy: MissedLoopPolicy,
    startMs: number,
  ) {
    if (!(periodMs > 0)) throw new RangeError(`loop period must be > 0 ms, got ${periodMs}`);
    this.nextMs = startMs + periodMs;
  }

  /** Called when an iteration finished at nowMs: when the next one starts. */
  afterIteration(nowMs: number): LoopStep {
    const timeToSleep = this.nextMs - nowMs;
    if (timeToSleep > 0) {
      const dueMs = this.nextMs;
      this.nextMs += this.periodMs;
      return { dueMs, missedSlots: 0, lateMs: 0 };
    }
    const lateMs = -timeToSleep;
    // QMI: periods_missed = int((loop_period - time_to_sleep) / loop_period); >= 1.
    const missedSlots = Math.floor((this.periodMs + lateMs) / this.periodMs);
    switch (this.policy) {
      case "IMMEDIATE":
        this.nextMs = nowMs + this.periodMs;
        return { dueMs: nowMs, missedSlots, lateMs };
      case "SKIP":
        this.nextMs += this.periodMs * missedSlots;
        return { dueMs: nowMs, missedSlots, lateMs };
      case "TERMINATE":
        return { terminate: true, missedSlots, lateMs };
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
  /** The TERMINATE policy ended the loop (the outcome is completed, with reason "missed_loop"). */
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
        if (step.lateMs > 0 || step.missedSlots > 0) {
          const missed: MissedLoop = {
            policy: this.missedLoopPolicy,
            periodMs: this.loopPeriodMs,
            lateMs: step.lateMs,
            missedSlots: step.missedSlots,
            terminate: "terminate" in step,
          };
          ctx.missedLoop?.(missed);
        }
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
