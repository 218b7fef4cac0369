// Specification of the restart policy, without processes: which exits restart, after what
// backoff, when backoff starts over, when max_restarts makes a program FATAL, and when a failed
// start backs off or gives up.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  backoffDelay,
  decideAfterExit,
  decideAfterFailedStart,
  isExpectedExit,
  NO_RESTARTS,
  type ExitDecision,
  type RestartHistory,
} from "../../server/core/process/restart-policy.js";
import { program } from "../helpers/core.js";

const backoff = { initialMs: 100, maxMs: 1000, multiplier: 2, resetAfterMs: 60_000 };
const config = (overrides: Parameters<typeof program>[2] = {}) => program("p", ["true"], { backoff, ...overrides });
const crash = { exitCode: 1, uptimeMs: 10, what: "exited with code 1" };
const clean = { exitCode: 0, uptimeMs: 10, what: "exited with code 0" };

/** Runs a sequence of exits through the policy, as Program does, and returns the decisions. */
function exits(cfg: ReturnType<typeof config>, facts: (typeof crash)[], times: number[]): ExitDecision[] {
  let history: RestartHistory = NO_RESTARTS;
  return facts.map((exit, i) => {
    const decision = decideAfterExit(cfg, exit, history, times[i] ?? i);
    if (decision.action !== "stay-exited") history = decision.history;
    return decision;
  });
}

describe("restart policy", () => {
  test("backoff grows by the multiplier from initial and stops at max", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((step) => backoffDelay(backoff, step)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(backoffDelay({ ...backoff, multiplier: 1.5 }, 1), 150);
  });

  test("success codes make an exit expected; a signal never is", () => {
    const cfg = config({ exitcodes: [0, 3] });
    assert.equal(isExpectedExit(cfg, { exitCode: 3 }), true);
    assert.equal(isExpectedExit(cfg, { exitCode: 1 }), false);
    assert.equal(isExpectedExit(cfg, { exitSignal: "SIGTERM" }), false);
    assert.equal(isExpectedExit(cfg, { exitCode: 0, exitSignal: "SIGKILL" }), false);
  });

  test("never stays exited; on-failure restarts only unexpected exits; always restarts both", () => {
    assert.deepEqual(decideAfterExit(config({ autorestart: "never" }), crash, NO_RESTARTS, 0), {
      action: "stay-exited",
      reason: "exited with code 1 (unexpected)",
    });
    assert.deepEqual(decideAfterExit(config({ autorestart: "on-failure" }), clean, NO_RESTARTS, 0), { action: "stay-exited", reason: "exited with code 0" });
    assert.equal(decideAfterExit(config({ autorestart: "on-failure" }), crash, NO_RESTARTS, 0).action, "restart");
    assert.equal(decideAfterExit(config({ autorestart: "always" }), clean, NO_RESTARTS, 0).action, "restart");
  });

  test("the first restart is immediate, the next ones back off, and the reason says the delay", () => {
    const decisions = exits(config({ autorestart: "always" }), [crash, crash, crash, crash], [0, 1, 2, 3]);
    assert.deepEqual(
      decisions.map((d) => (d.action === "restart" ? d.delayMs : d.action)),
      [0, 100, 200, 400],
    );
    assert.equal(decisions[2]?.reason, "exited with code 1; restarting (always) in 200 ms");
  });

  test("a run up for reset_after starts the backoff over", () => {
    const cfg = config({ autorestart: "always" });
    const stable = { ...crash, uptimeMs: backoff.resetAfterMs };
    const decisions = exits(cfg, [crash, crash, stable, crash], [0, 1, 2, 3]);
    assert.deepEqual(
      decisions.map((d) => (d.action === "restart" ? d.delayMs : d.action)),
      [0, 100, 0, 100],
    );
  });

  test("max_restarts within restart_window makes the program FATAL, restarts older than the window do not count", () => {
    const cfg = config({ autorestart: "always", maxRestarts: 2, restartWindowMs: 1000 });
    const inWindow = exits(cfg, [crash, crash, crash], [0, 10, 20]);
    assert.deepEqual(
      inWindow.map((d) => d.action),
      ["restart", "restart", "fatal"],
    );
    const last = inWindow[2];
    assert.ok(last?.action === "fatal");
    assert.equal(last.exitedReason, "exited with code 1");
    assert.equal(last.reason, "exited with code 1; restarted 2 times within 1000 ms (max_restarts=2)");
    // The first two restarts have left the window by the third exit.
    assert.deepEqual(
      exits(cfg, [crash, crash, crash], [0, 10, 1500]).map((d) => d.action),
      ["restart", "restart", "restart"],
    );
    // 0: unlimited.
    assert.ok(exits(config({ autorestart: "always" }), Array(20).fill(crash), []).every((d) => d.action === "restart"));
  });

  test("a failed start backs off by attempt, and gives up after startretries", () => {
    const cfg = config({ startretries: 2 });
    assert.deepEqual(decideAfterFailedStart(cfg, 1, "exited with code 1 before startsecs (0 ms)"), {
      action: "backoff",
      reason: "exited with code 1 before startsecs (0 ms); retry 1/2 in 100 ms",
      delayMs: 100,
    });
    assert.deepEqual(decideAfterFailedStart(cfg, 2, "spawn failed"), { action: "backoff", reason: "spawn failed; retry 2/2 in 200 ms", delayMs: 200 });
    assert.deepEqual(decideAfterFailedStart(cfg, 3, "spawn failed"), { action: "fatal", reason: "spawn failed; gave up after 3 attempt(s) (startretries=2)" });
  });
});
