// Specification of the readiness give-up: a run whose readiness probe never passes is stopped
// after start_timeout and counts as a failed start (BACKOFF, retried, then FATAL), saying why.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ProbeConfig } from "../../server/core/process/types.js";
import { isAlive, program, sh, startExpectingFatal, startManager, waitForState } from "../helpers/core.js";

const neverPasses = (startTimeoutMs: number): ProbeConfig => ({
  check: { kind: "exec", command: ["false"] },
  periodMs: 100,
  timeoutMs: 1000,
  initialDelayMs: 0,
  successThreshold: 1,
  failureThreshold: 1,
  startTimeoutMs,
});

describe("readiness start_timeout", () => {
  test("a probe that never passes ends STARTING: the run is stopped, retried, then FATAL with the reason", async () => {
    const f = startManager([
      program("stuck", sh("sleep 30"), {
        readiness: neverPasses(400),
        startretries: 1,
        backoff: { initialMs: 50, maxMs: 50, multiplier: 1, resetAfterMs: 60_000 },
      }),
    ]);
    try {
      const t0 = performance.now();
      const snapshot = await startExpectingFatal(f.manager, "stuck", { wait: "ready", timeoutMs: 20_000 });
      assert.equal(snapshot.state, "FATAL");
      assert.equal(snapshot.ready, false);
      assert.ok(performance.now() - t0 >= 780, "two attempts of 400 ms each");
      assert.match(snapshot.stateReason, /readiness probe did not pass within start_timeout \(400 ms\); last check: exit code 1/);
      assert.match(snapshot.stateReason, /gave up after 2 attempt/);
      assert.equal(isAlive(snapshot.run!.pid), false, "the last run was stopped");
      const starts = f.manager.journal.since(0).filter((e) => e.program === "stuck" && e.detail.kind === "processStarted");
      assert.equal(starts.length, 2);
    } finally {
      await f.close();
    }
  });

  test("a probe that passes in time cancels the give-up", async () => {
    const f = startManager([program("fine", sh("sleep 30"), { readiness: { ...neverPasses(600), check: { kind: "exec", command: ["true"] } } })]);
    try {
      const snapshot = await f.manager.start("fine", { wait: "ready" });
      assert.equal(snapshot.state, "RUNNING");
      await new Promise((resolve) => setTimeout(resolve, 900));
      await waitForState(f.manager, "fine", "RUNNING");
      assert.equal(f.manager.get("fine").run!.pid, snapshot.run!.pid);
    } finally {
      await f.close();
    }
  });
});
