// Specification of the loop task's timing (QMI's QMI_LoopTask) with an injected clock, so the
// grid is checked exactly: iteration k due at t0 + k*period, and each missed-loop policy.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LoopSchedule, LoopTask, type LoopClock, type MissedLoopPolicy } from "../../server/core/task/loop.js";
import { TaskRunner } from "../../server/core/task/runner.js";
import type { JsonValue, TaskContext, TaskSnapshot } from "../../server/core/task/types.js";

/** A clock that only moves when told: sleeping advances it instantly. */
class FakeClock implements LoopClock {
  t = 1000;
  now(): number {
    return this.t;
  }
  async sleep(ms: number, ctx: TaskContext): Promise<void> {
    ctx.checkStop();
    this.t += ms;
  }
}

interface Scenario {
  periodMs: number;
  policy: MissedLoopPolicy;
  /** How long iteration k takes (missing: 10 ms). */
  workMs: number[];
  /** Stop after this many iterations. */
  iterations: number;
}

/** Runs a loop task under the fake clock; returns iteration start times relative to the first, and the hooks' order. */
async function runLoop(scenario: Scenario): Promise<{ starts: number[]; hooks: string[]; state: string; outcome: TaskSnapshot; signals: JsonValue[] }> {
  const clock = new FakeClock();
  const starts: number[] = [];
  const signals: JsonValue[] = [];
  const hooks: string[] = [];
  const runner = new TaskRunner();
  let stop: () => void = () => {};
  class Probe extends LoopTask {
    static taskType = "probe";
    constructor(args: JsonValue) {
      super(args);
      this.clock = clock;
    }
    override loopPrepare(): void {
      hooks.push("prepare");
    }
    override loopIteration(): void {
      starts.push(clock.now());
      hooks.push("iteration");
      clock.t += scenario.workMs[starts.length - 1] ?? 10;
      if (starts.length === scenario.iterations) stop();
    }
    override loopStatus(): JsonValue {
      hooks.push("status");
      return starts.length;
    }
    override loopSignals(): void {
      hooks.push("signals");
    }
    override loopFinalize(): void {
      hooks.push("finalize");
    }
  }
  runner.registerType(Probe);

  runner.create("p", "probe", { period_ms: scenario.periodMs, policy: scenario.policy });
  stop = () => void runner.stop("p");
  runner.start("p");
  const outcome = await runner.join("p", { timeoutMs: 5_000 });
  // The held signals, read back up to the final one (the task has finished: they are all held).
  for await (const item of runner.bus.watch({ tasks: ["p"], names: ["missed_loop", "completed", "stopped", "failed"] })) {
    if (!("signal" in item)) continue;
    if (item.signal.name !== "missed_loop") break;
    signals.push(item.signal.payload);
  }
  return { starts: starts.map((t) => t - starts[0]!), hooks, state: outcome.state, outcome, signals };
}

describe("loop task timing (injected clock)", () => {
  test("on time: iteration k starts at exactly t0 + k*period, the first at once", async () => {
    const { starts, state } = await runLoop({ periodMs: 100, policy: "IMMEDIATE", workMs: [30, 99, 0, 50], iterations: 5 });
    assert.deepEqual(starts, [0, 100, 200, 300, 400]);
    assert.equal(state, "stopped");
  });

  test("an iteration that ends exactly on the next due time is a miss, as in QMI (time_to_sleep > 0 is on time)", async () => {
    const { starts, state, outcome } = await runLoop({ periodMs: 100, policy: "TERMINATE", workMs: [100, 10], iterations: 3 });
    assert.deepEqual(starts, [0]);
    assert.equal(state, "completed");
    assert.equal(outcome.outcomeReason, "missed_loop");
  });

  test("IMMEDIATE: after a miss the next iteration runs at once and the grid is re-anchored there", async () => {
    // Iteration 1 starts at 100 and ends at 350 (due 200 missed).
    const { starts } = await runLoop({ periodMs: 100, policy: "IMMEDIATE", workMs: [10, 250], iterations: 5 });
    assert.deepEqual(starts, [0, 100, 350, 450, 550]);
  });

  test("SKIP is QMI's grid: period 400, iteration 2 taking 1000 ms -> starts at 0, 400, 800, 1800, 2000, 2400", async () => {
    const { starts, signals } = await runLoop({ periodMs: 400, policy: "SKIP", workMs: [0, 0, 1000, 0, 0, 0], iterations: 6 });
    assert.deepEqual(starts, [0, 400, 800, 1800, 2000, 2400]);
    assert.deepEqual(signals, [{ policy: "SKIP", period_ms: 400, late_ms: 600, missed_slots: 2, terminate: false }]);
  });

  test("SKIP: the catch-up iteration runs at once; the grid resumes at floor((period + late) / period) slots on", async () => {
    // Iteration 1 (due 100) ends at 420: 220 ms late, floor(320/100) = 3 slots -> next grid slot 500.
    const { starts } = await runLoop({ periodMs: 100, policy: "SKIP", workMs: [10, 320, 10, 10], iterations: 4 });
    assert.deepEqual(starts, [0, 100, 420, 500]);
  });

  test("SKIP: an overrun into the middle of the next slot catches up at once, then keeps the grid", async () => {
    // Iteration 1 ends at 250: 50 ms late, floor(150/100) = 1 -> catch-up at 250, then 300.
    const { starts } = await runLoop({ periodMs: 100, policy: "SKIP", workMs: [10, 150, 10], iterations: 4 });
    assert.deepEqual(starts, [0, 100, 250, 300]);
  });

  test("TERMINATE: the task ends after the late iteration with outcome reason missed_loop and a signal; finalize runs", async () => {
    const { starts, hooks, state, outcome, signals } = await runLoop({ periodMs: 100, policy: "TERMINATE", workMs: [10, 250], iterations: 10 });
    assert.deepEqual(starts, [0, 100]);
    assert.equal(state, "completed");
    assert.equal(outcome.outcomeReason, "missed_loop");
    assert.deepEqual(signals, [{ policy: "TERMINATE", period_ms: 100, late_ms: 150, missed_slots: 2, terminate: true }]);
    assert.equal(hooks.at(-1), "finalize");
  });

  test("hooks run in order: prepare, then iteration/status/signals per loop, then finalize once", async () => {
    const { hooks } = await runLoop({ periodMs: 50, policy: "IMMEDIATE", workMs: [], iterations: 2 });
    assert.deepEqual(hooks, ["prepare", "iteration", "status", "signals", "iteration", "status", "signals", "finalize"]);
  });

  test("LoopSchedule counts the missed slots", () => {
    const skip = new LoopSchedule(100, "SKIP", 0);
    assert.deepEqual(skip.afterIteration(50), { dueMs: 100, missedSlots: 0, lateMs: 0 });
    assert.deepEqual(skip.afterIteration(420), { dueMs: 420, missedSlots: 3, lateMs: 220 });
    assert.deepEqual(skip.afterIteration(430), { dueMs: 500, missedSlots: 0, lateMs: 0 });
    const immediate = new LoopSchedule(100, "IMMEDIATE", 0);
    assert.deepEqual(immediate.afterIteration(250), { dueMs: 250, missedSlots: 2, lateMs: 150 });
    assert.deepEqual(immediate.afterIteration(260), { dueMs: 350, missedSlots: 0, lateMs: 0 });
  });

  test("a failing prepare ends the task as failed without finalize", async () => {
    const runner = new TaskRunner();
    const hooks: string[] = [];
    class BadPrepare extends LoopTask {
      override loopPrepare(): void {
        throw new Error("no hardware");
      }
      override loopFinalize(): void {
        hooks.push("finalize");
      }
    }
    runner.registerType(BadPrepare);
    runner.create("b", "BadPrepare", { period_ms: 10 });
    runner.start("b");
    const outcome = await runner.join("b", { timeoutMs: 5_000 });
    assert.equal(outcome.state, "failed");
    assert.equal(outcome.error?.message, "no hardware");
    assert.deepEqual(hooks, []);
  });

  test("bad loop args name the field", () => {
    const runner = new TaskRunner();
    class L extends LoopTask {}
    runner.registerType(L);
    assert.throws(() => runner.create("x", "L", { period_ms: -1 }), /args\.period_ms/);
    assert.throws(() => runner.create("y", "L", { policy: "LATER" }), /args\.policy/);
  });
});
