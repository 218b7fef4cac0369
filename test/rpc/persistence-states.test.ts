// Programs that had finished before a daemon crash (EXITED, FATAL, STOPPED by the user) come
// back in that state under the next daemon, with their last run's exit information, and are not
// started again by autostart.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProcessState, StopWait, type ProcessInfo } from "../../client/ts/index.js";
import { processGroupMembers } from "../helpers/daemon.js";
import { inSharedHome, killDaemon, listAll, waitForStates } from "../helpers/shared-home.js";

const COMMON = { autostart: true, startsecs: "100ms", stop_timeout: "2s" };

test("EXITED, FATAL and user-STOPPED programs keep their state and last exit info across a daemon SIGKILL, and are not autostarted", {
  timeout: 60_000,
}, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = {
      exited: { command: ["sh", "-c", "sleep 0.3; exit 3"], ...COMMON, autorestart: "never" },
      fatal: { command: ["false"], ...COMMON, startretries: 1, backoff: { initial: "50ms" } },
      missing: { command: ["/nonexistent/corral-test-binary"], ...COMMON, startretries: 0 },
      stopped: { command: ["sleep", "300"], ...COMMON },
      running: { command: ["sleep", "300"], ...COMMON },
    };
    const first = await start({ programs });
    await waitForStates(
      first,
      (p) =>
        p.name === "stopped" || p.name === "running"
          ? p.state === ProcessState.RUNNING
          : p.name === "exited"
            ? p.state === ProcessState.EXITED
            : p.state === ProcessState.FATAL,
      "the first states",
    );
    await first.client.processManager.stopProcess({ name: "stopped" });
    const before = await listAll(first);
    owned.add(before.values());
    assert.equal(before.get("stopped")?.state, ProcessState.STOPPED);

    await killDaemon(first);
    // A program new to the config, last in it, that autostart does start: autostart spawns in
    // config order, so once it is up, any of the others autostart had wrongly picked would be up too.
    const second = await start({ programs: { ...programs, sentinel: { command: ["sleep", "300"], ...COMMON } } });
    owned.add((await waitForStates(second, (p) => p.name !== "sentinel" || p.state === ProcessState.RUNNING, "the sentinel RUNNING")).values());
    const after = await listAll(second);
    owned.add(after.values());
    const same = (name: string, state: ProcessState, check: (p: ProcessInfo) => void) => {
      const old = before.get(name);
      const now = after.get(name);
      assert.ok(old?.run && now?.run, `${name}: has its last run`);
      assert.equal(now.state, state, `${name}: ${ProcessState[now.state]} (${now.stateReason})`);
      assert.equal(now.run.runId, old.run.runId, `${name}: the same run, not a new start`);
      assert.equal(now.run.pid, old.run.pid);
      assert.deepEqual(now.run.exitedAt, old.run.exitedAt, `${name}: the same exit time`);
      assert.ok(now.stateReason.startsWith(old.stateReason), `${name}: the reason is kept ("${now.stateReason}")`);
      check(now);
    };
    same("exited", ProcessState.EXITED, (p) => assert.equal(p.run?.exitCode, 3));
    same("fatal", ProcessState.FATAL, (p) => assert.equal(p.run?.exitCode, 1));
    same("missing", ProcessState.FATAL, (p) => assert.match(p.run?.spawnError ?? "", /nonexistent/));
    same("stopped", ProcessState.STOPPED, (p) => assert.equal(p.run?.exitSignal, "SIGTERM"));
    assert.equal(after.get("running")?.state, ProcessState.RUNNING);
    assert.equal(after.get("running")?.run?.pid, before.get("running")?.run?.pid, "the live one is re-adopted");

    // They are ordinary programs again: a start makes a new run.
    const restarted = (await second.client.processManager.startProcess({ name: "stopped" })).process;
    owned.add(restarted ? [restarted] : []);
    assert.equal(restarted?.state, ProcessState.RUNNING);
    assert.ok(Number(restarted?.run?.runId) > Number(before.get("stopped")?.run?.runId));
  });
});

test("after an orderly daemon stop, programs the daemon stopped are autostarted again while finished ones stay as they were", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = {
      exited: { command: ["sh", "-c", "sleep 0.3; exit 0"], ...COMMON, autorestart: "never" },
      up: { command: ["sleep", "300"], ...COMMON },
      "user-stopped": { command: ["sleep", "300"], ...COMMON },
    };
    const first = await start({ programs });
    await waitForStates(first, (p) => (p.name === "exited" ? p.state === ProcessState.EXITED : p.state === ProcessState.RUNNING), "the first states");
    await first.client.processManager.stopProcess({ name: "user-stopped" });
    const before = await listAll(first);
    owned.add(before.values());
    assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.output());

    const second = await start({ programs });
    const after = await waitForStates(second, (p) => (p.name === "up" ? p.state === ProcessState.RUNNING : true), "up to run again");
    owned.add(after.values());
    assert.ok(Number(after.get("up")?.run?.runId) > Number(before.get("up")?.run?.runId), "up: a new run (the daemon's stop was not the user's)");
    assert.equal(after.get("exited")?.state, ProcessState.EXITED);
    assert.equal(after.get("exited")?.run?.runId, before.get("exited")?.run?.runId, "exited: not started again");
    assert.equal(after.get("user-stopped")?.state, ProcessState.STOPPED);
    assert.equal(after.get("user-stopped")?.run?.runId, before.get("user-stopped")?.run?.runId, "user-stopped: stays stopped");
  });
});

test("a program being stopped when the daemon was SIGKILLed is stopped by the next daemon, not adopted as running", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    // Ignores SIGTERM: the stop needs stop_timeout, then SIGKILL; the daemon dies in between.
    const programs = { stubborn: { command: ["sh", "-c", "trap '' TERM; sleep 300 & wait; sleep 300"], ...COMMON, stop_timeout: "3s" } };
    const first = await start({ programs });
    const before = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING");
    owned.add(before.values());
    const pid = before.get("stubborn")?.run?.pid ?? 0;
    await first.client.processManager.stopProcess({ name: "stubborn", wait: StopWait.NONE });
    await killDaemon(first);
    assert.ok(processGroupMembers(pid).length > 0, "the group outlived the daemon (SIGTERM was ignored)");

    const second = await start({ programs });
    const after = await waitForStates(second, (p) => p.state === ProcessState.STOPPED, "STOPPED", 20_000);
    assert.equal(after.get("stubborn")?.run?.pid, pid, "the same run, adopted and then stopped");
    assert.deepEqual(processGroupMembers(pid), [], "the whole group is gone");
  });
});
