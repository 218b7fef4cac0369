// Specification of a program's life in the core: supervisord's states, startsecs, retries with
// backoff to FATAL, restart policies, spawn errors and identity, on real child processes.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { WrongStateError } from "../../server/core/errors.js";
import type { JournalEvent } from "../../server/core/process/journal.js";
import { isAlive, program, sh, sleep, startExpectingFatal, startManager, waitForState, waitUntil } from "../helpers/core.js";

function states(events: JournalEvent[], name: string): string[] {
  return events.filter((e) => e.program === name && e.detail.kind === "stateChanged").map((e) => (e.detail.kind === "stateChanged" ? e.detail.to : ""));
}

describe("states and startsecs", () => {
  test("a program is STARTING until startsecs have passed, then RUNNING", async () => {
    const f = startManager([program("slow", sh("sleep 30"), { startsecsMs: 400 })]);
    try {
      const t0 = performance.now();
      const startPromise = f.manager.start("slow");
      assert.equal(f.manager.get("slow").state, "STARTING");
      const snapshot = await startPromise;
      assert.equal(snapshot.state, "RUNNING");
      assert.ok(performance.now() - t0 >= 390, "RUNNING before startsecs");
      assert.ok(snapshot.run && snapshot.run.pid > 0 && snapshot.run.pidStartTicks > 0);
      assert.deepEqual(states(f.manager.journal.since(0), "slow"), ["STARTING", "RUNNING"]);
    } finally {
      await f.close();
    }
  });

  test("exiting before startsecs goes to BACKOFF, retries with growing delays, then FATAL", async () => {
    const f = startManager([
      program("crash", sh("exit 3"), { startsecsMs: 300, startretries: 2, backoff: { initialMs: 100, maxMs: 1000, multiplier: 3, resetAfterMs: 60_000 } }),
    ]);
    try {
      const snapshot = await startExpectingFatal(f.manager, "crash");
      assert.equal(snapshot.state, "FATAL");
      assert.match(snapshot.stateReason, /exited with code 3 before startsecs/);
      assert.match(snapshot.stateReason, /gave up after 3 attempt/);
      const events = f.manager.journal.since(0).filter((e) => e.program === "crash");
      assert.deepEqual(states(events, "crash"), ["STARTING", "BACKOFF", "STARTING", "BACKOFF", "STARTING", "FATAL"]);
      // Backoff delays: 100 ms then 300 ms (multiplier 3), measured between BACKOFF and the next STARTING.
      const changes = events.filter((e) => e.detail.kind === "stateChanged");
      const gap1 = changes[2].time.getTime() - changes[1].time.getTime();
      const gap2 = changes[4].time.getTime() - changes[3].time.getTime();
      assert.ok(gap1 >= 95 && gap1 < 1000, `first retry after ${gap1} ms`);
      assert.ok(gap2 >= 295 && gap2 < 1500, `second retry after ${gap2} ms`);
      assert.equal(f.manager.journal.since(0).filter((e) => e.detail.kind === "processStarted").length, 3);
    } finally {
      await f.close();
    }
  });

  test("starting a program that is already RUNNING is refused with a wrong-state error", async () => {
    const f = startManager([program("web", sh("sleep 30"))]);
    try {
      await f.manager.start("web");
      await assert.rejects(f.manager.start("web"), (e: unknown) => e instanceof WrongStateError && /already RUNNING/.test(e.message));
    } finally {
      await f.close();
    }
  });

  test("run ids are never reused, also by a new manager on the same home", async () => {
    const f = startManager([program("once", sh("exit 0"))]);
    try {
      const first = (await f.manager.start("once")).run!.runId;
      await waitForState(f.manager, "once", "EXITED");
      const second = (await f.manager.start("once")).run!.runId;
      assert.ok(second > first);
      // Ended first: a live run would (rightly) be adopted by the next manager instead of started.
      await waitForState(f.manager, "once", "EXITED");
      const { ProcessManager } = await import("../../server/core/process/manager.js");
      const again = new ProcessManager({ home: f.home, programs: [program("once", sh("exit 0"))] });
      const third = (await again.start("once")).run!.runId;
      await again.shutdown();
      assert.ok(third > second, `run id ${third} after ${second}`);
    } finally {
      await f.close();
    }
  });
});

describe("restart policy", () => {
  test("never: an exit leaves the program EXITED", async () => {
    const f = startManager([program("job", sh("exit 5"), { autorestart: "never" })]);
    try {
      await f.manager.start("job");
      await waitForState(f.manager, "job", "EXITED");
      const p = f.manager.get("job");
      // EXITED with no retry timer set: nothing can restart it later.
      assert.equal(p.nextRetryAt, undefined);
      assert.equal(p.state, "EXITED");
      assert.equal(p.run?.exitCode, 5);
      assert.equal(p.restarts, 0);
      assert.match(p.stateReason, /exited with code 5 \(unexpected\)/);
    } finally {
      await f.close();
    }
  });

  test("on-failure: a success exit code is not restarted, a failure is", async () => {
    const f = startManager([
      program("ok", sh("exit 0"), { autorestart: "on-failure" }),
      program("bad", sh("sleep 0.05; exit 7"), { autorestart: "on-failure", exitcodes: [0, 2] }),
      program("two", sh("exit 2"), { autorestart: "on-failure", exitcodes: [0, 2] }),
    ]);
    try {
      await f.manager.startAll();
      await waitUntil(() => f.manager.get("bad").restarts >= 2, 5000, "bad restarted twice");
      await waitForState(f.manager, "ok", "EXITED");
      await waitForState(f.manager, "two", "EXITED");
      // No retry timer set for either: nothing can restart them later.
      assert.equal(f.manager.get("ok").nextRetryAt, undefined);
      assert.equal(f.manager.get("two").nextRetryAt, undefined);
      assert.equal(f.manager.get("ok").restarts, 0);
      assert.equal(f.manager.get("two").restarts, 0);
      assert.equal(f.manager.get("ok").state, "EXITED");
      const exits = f.manager.journal.since(0).filter((e) => e.program === "bad" && e.detail.kind === "processExited");
      assert.ok(exits.every((e) => e.detail.kind === "processExited" && e.detail.exitCode === 7 && !e.detail.expected));
    } finally {
      await f.close();
    }
  });

  test("always: even a clean exit is restarted, with exponential backoff capped at max", async () => {
    const f = startManager([
      program("loop", sh("exit 0"), { autorestart: "always", backoff: { initialMs: 50, maxMs: 200, multiplier: 2, resetAfterMs: 60_000 } }),
    ]);
    try {
      await f.manager.start("loop");
      await waitUntil(() => f.manager.journal.since(0).filter((e) => e.detail.kind === "processStarted").length >= 6, 10_000, "6 runs");
      const events = f.manager.journal.since(0);
      const starts = events.filter((e) => e.detail.kind === "processStarted").map((e) => e.time.getTime());
      // The policy's decision, as each EXITED transition states it: 0, 50, 100, 200, 200 (capped).
      const scheduled = events
        .filter((e) => e.detail.kind === "stateChanged" && e.detail.to === "EXITED")
        .map((e) => (e.detail.kind === "stateChanged" ? Number(/restarting \(always\) in (\d+) ms/.exec(e.detail.reason)?.[1]) : Number.NaN));
      assert.deepEqual(scheduled.slice(0, 5), [0, 50, 100, 200, 200]);
      // And the timer honoured it: no restart came earlier than scheduled (a loaded host only makes gaps longer,
      // so there is no upper bound here; the pure policy's numbers are unit-tested in restart-policy.test.ts).
      const gaps = starts.slice(1).map((t, i) => t - starts[i]);
      for (let i = 0; i < 5; i++) assert.ok(gaps[i] >= scheduled[i] - 2, `restart ${i + 1} after ${gaps[i]} ms, scheduled ${scheduled[i]} ms`);
    } finally {
      await f.close();
    }
  });

  test("backoff resets after a run stayed up for reset_after", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-reset-"));
    const counter = join(dir, "n");
    writeFileSync(counter, "0");
    // Runs 1-3 crash at once; run 4 stays up 400 ms (> reset_after 300 ms); run 5 crashes again.
    const script = `n=$(cat ${counter}); n=$((n+1)); echo $n > ${counter}; if [ $n -eq 4 ]; then sleep 0.4; fi; if [ $n -ge 6 ]; then sleep 30; fi; exit 1`;
    const f = startManager([
      program("flappy", sh(script), { autorestart: "on-failure", backoff: { initialMs: 150, maxMs: 5000, multiplier: 2, resetAfterMs: 300 } }),
    ]);
    try {
      await f.manager.start("flappy");
      await waitUntil(() => f.manager.journal.since(0).filter((e) => e.detail.kind === "processStarted").length >= 6, 10_000, "6 runs");
      const starts = f.manager.journal
        .since(0)
        .filter((e) => e.detail.kind === "processStarted")
        .map((e) => e.time.getTime());
      const exits = f.manager.journal
        .since(0)
        .filter((e) => e.detail.kind === "processExited")
        .map((e) => e.time.getTime());
      // Delay before run 5 (after the stable run 4) is back to 0; before run 3 it was 150 ms.
      const before3 = starts[2] - exits[1];
      const before5 = starts[4] - exits[3];
      assert.ok(before3 >= 140, `backoff before run 3: ${before3} ms`);
      assert.ok(before5 < 100, `reset after stable run: ${before5} ms`);
    } finally {
      await f.close();
    }
  });

  test("max_restarts within restart_window sends the program to FATAL with a reason", async () => {
    const f = startManager([
      program("storm", sh("sleep 0.02; exit 1"), {
        autorestart: "always",
        maxRestarts: 3,
        restartWindowMs: 10_000,
        backoff: { initialMs: 10, maxMs: 20, multiplier: 2, resetAfterMs: 60_000 },
      }),
    ]);
    try {
      await f.manager.start("storm");
      await waitForState(f.manager, "storm", "FATAL");
      assert.match(f.manager.get("storm").stateReason, /restarted 3 times within 10000 ms/);
    } finally {
      await f.close();
    }
  });

  test("a stop during BACKOFF cancels the pending retry", async () => {
    const f = startManager([
      program("crash", sh("exit 1"), { startsecsMs: 200, startretries: 5, backoff: { initialMs: 500, maxMs: 1000, multiplier: 1, resetAfterMs: 60_000 } }),
    ]);
    try {
      void f.manager.start("crash", { wait: "none" });
      await waitForState(f.manager, "crash", "BACKOFF");
      const result = await f.manager.stop("crash");
      assert.equal(result.process.state, "STOPPED");
      assert.match(result.process.stateReason, /pending retry cancelled/);
      assert.equal(f.manager.get("crash").nextRetryAt, undefined, "the retry timer is cleared");
      assert.equal(f.manager.get("crash").state, "STOPPED");
      assert.equal(f.manager.journal.since(0).filter((e) => e.detail.kind === "processStarted").length, 1, "no retry after stop");
    } finally {
      await f.close();
    }
  });
});

describe("spawn errors", () => {
  test("a missing executable is a spawn error naming it and ENOENT, not an exit", async () => {
    const f = startManager([program("ghost", ["/nonexistent/bin/ghost", "x"])]);
    try {
      const p = await startExpectingFatal(f.manager, "ghost");
      assert.equal(p.state, "FATAL");
      assert.match(p.stateReason, /spawn failed: executable \/nonexistent\/bin\/ghost does not exist \(ENOENT\)/);
      assert.match(p.run?.spawnError ?? "", /ENOENT/);
      assert.equal(p.run?.exitCode, undefined);
      const failed = f.manager.journal.since(0).find((e) => e.detail.kind === "spawnFailed");
      assert.ok(failed && failed.detail.kind === "spawnFailed");
      assert.equal(failed.detail.path, "/nonexistent/bin/ghost");
      assert.equal(failed.detail.errno, "ENOENT");
    } finally {
      await f.close();
    }
  });

  test("a command not on PATH names the command", async () => {
    const f = startManager([program("nope", ["corral-no-such-command-xyz"])]);
    try {
      const p = await startExpectingFatal(f.manager, "nope");
      assert.equal(p.state, "FATAL");
      assert.match(p.stateReason, /"corral-no-such-command-xyz" not found on PATH \(ENOENT\)/);
    } finally {
      await f.close();
    }
  });

  test("a file without execute permission is EACCES", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-noexec-"));
    const script = join(dir, "script.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n");
    chmodSync(script, 0o644);
    const f = startManager([program("noexec", [script])]);
    try {
      const p = await startExpectingFatal(f.manager, "noexec");
      assert.equal(p.state, "FATAL");
      assert.match(p.stateReason, new RegExp(`${script} is not executable \\(EACCES\\)`));
    } finally {
      await f.close();
    }
  });

  test("a bad working directory names the directory", async () => {
    const f = startManager([program("badcwd", sh("true"), { cwd: "/nonexistent/dir" })]);
    try {
      const p = await startExpectingFatal(f.manager, "badcwd");
      assert.equal(p.state, "FATAL");
      assert.match(p.stateReason, /working directory \/nonexistent\/dir is not usable \(ENOENT\)/);
    } finally {
      await f.close();
    }
  });
});

describe("identity", () => {
  test("a signal is not sent when the pid no longer belongs to the run (start time differs)", async () => {
    const f = startManager([program("victim", sh("trap 'echo got-hup' HUP; while :; do sleep 0.05; done"), { startsecsMs: 300 })]);
    try {
      const p = await f.manager.start("victim");
      const pid = p.run!.pid;
      f.manager.signal("victim", "HUP");
      // Simulate pid reuse: the recorded start time no longer matches the live process.
      const internal = (f.manager as unknown as { programs: Map<string, { run: { pidStartTicks: number } }> }).programs.get("victim")!;
      internal.run.pidStartTicks += 1;
      assert.throws(
        () => f.manager.signal("victim", "KILL"),
        (e: unknown) => e instanceof WrongStateError && /no longer the process corral started/.test(e.message),
      );
      await sleep(100);
      assert.ok(isAlive(pid), "the process was not signalled");
      internal.run.pidStartTicks -= 1;
    } finally {
      await f.close();
    }
  });

  test("signalling a program that is not running is a wrong-state error; an unknown signal is invalid", async () => {
    const f = startManager([program("idle", sh("sleep 30"))]);
    try {
      assert.throws(() => f.manager.signal("idle", "TERM"), WrongStateError);
      await f.manager.start("idle");
      assert.throws(() => f.manager.signal("idle", "SIGFOO"), /invalid signal="SIGFOO"/);
    } finally {
      await f.close();
    }
  });
});
