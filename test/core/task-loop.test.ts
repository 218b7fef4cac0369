// Specification of the loop task's timing (QMI's QMI_LoopTask) with an injected clock, so the
// grid is checked exactly: iteration k due at t0 + k*period, and each missed-loop policy.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LoopSchedule, LoopTask, type LoopClock, type MissedLoopPolicy } from "../../server/core/task/loop.js";
import { TaskRunner } from "../../server/core/task/runner.js";
import type { JsonValue, TaskContext } from "../../server/core/task/types.js";

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
async function runLoop(scenario: Scenario): Promise<{ starts: number[]; hooks: string[]; state: string }> {
  const clock = new FakeClock();
  const starts: number[] = [];
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
  return { starts: starts.map((t) => t - starts[0]!), hooks, state: outcome.state };
}

describe("loop task timing (injected clock)", () => {
  test("on time: iteration k starts at exactly t0 + k*period, the first at once", async () => {
    const { starts, state } = await runLoop({ periodMs: 100, policy: "IMMEDIATE", workMs: [30, 99, 0, 50], iterations: 5 });
    assert.deepEqual(starts, [0, 100, 200, 300, 400]);
    assert.equal(state, "stopped");
  });

  test("an iteration that ends exactly on the next due time is not a miss", async () => {
    const { starts } = await runLoop({ periodMs: 100, policy: "TERMINATE", workMs: [100, 10], iterations: 3 });
    assert.deepEqual(starts, [0, 100, 200]);
  });

  test("IMMEDIATE: after a miss the next iteration runs at once and the grid is re-anchored there", async () => {
    // Iteration 1 starts at 100 and ends at 350 (due 200 missed).
    const { starts } = await runLoop({ periodMs: 100, policy: "IMMEDIATE", workMs: [10, 250], iterations: 5 });
    assert.deepEqual(starts, [0, 100, 350, 450, 550]);
  });

  test("SKIP: after a miss the missed slots are dropped and the original grid phase is kept", async () => {
    // Iteration 1 ends at 420: slots 200, 300, 400 are gone; the next is 500.
    const { starts } = await runLoop({ periodMs: 100, policy: "SKIP", workMs: [10, 320], iterations: 4 });
    assert.deepEqual(starts, [0, 100, 500, 600]);
  });

  test("SKIP: an overrun into the middle of the next slot waits for the slot after it", async () => {
    const { starts } = await runLoop({ periodMs: 100, policy: "SKIP", workMs: [10, 150], iterations: 3 });
    assert.deepEqual(starts, [0, 100, 300]);
  });

  test("TERMINATE: the task ends cleanly after the late iteration, and finalize runs", async () => {
    const { starts, hooks, state } = await runLoop({ periodMs: 100, policy: "TERMINATE", workMs: [10, 250], iterations: 10 });
    assert.deepEqual(starts, [0, 100]);
    assert.equal(state, "completed");
    assert.equal(hooks.at(-1), "finalize");
  });

  test("hooks run in order: prepare, then iteration/status/signals per loop, then finalize once", async () => {
    const { hooks } = await runLoop({ periodMs: 50, policy: "IMMEDIATE", workMs: [], iterations: 2 });
    assert.deepEqual(hooks, ["prepare", "iteration", "status", "signals", "iteration", "status", "signals", "finalize"]);
  });

  test("LoopSchedule counts the missed slots", () => {
    const skip = new LoopSchedule(100, "SKIP", 0);
    assert.deepEqual(skip.afterIteration(50), { dueMs: 100, missedSlots: 0 });
    assert.deepEqual(skip.afterIteration(420), { dueMs: 500, missedSlots: 3 });
    const immediate = new LoopSchedule(100, "IMMEDIATE", 0);
    assert.deepEqual(immediate.afterIteration(250), { dueMs: 250, missedSlots: 2 });
    assert.deepEqual(immediate.afterIteration(260), { dueMs: 350, missedSlots: 0 });
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
