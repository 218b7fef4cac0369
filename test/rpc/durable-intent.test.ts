// Durable intent: a stop, stop-all, restart or start is saved before its first signal or spawn,
// so a daemon SIGKILLed at that point (failpoints.ts: crash-after-stop-signal, crash-before-fork)
// leaves the next daemon putting every program where the user last asked: stopped programs
// stay stopped (none comes back running), restarted and started ones run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClientError, ProcessState, StartWait } from "../../client/ts/index.js";
import { isAlive, processGroupMembers, waitUntil, type TestDaemon, SLOW_START_MS } from "../helpers/daemon.js";
import { inSharedHome, listAll, waitForStates } from "../helpers/shared-home.js";

const sleeper = { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s", autorestart: "always" };

/** The call makes the daemon kill itself at its failpoint; returns once it is dead. */
async function crashDuring(daemon: TestDaemon, call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (error) => error instanceof ClientError, "the daemon dies during the call");
  assert.equal((await daemon.exited).signal, "SIGKILL");
  await daemon.stop();
}

test("a stop-all cut short by a SIGKILL right after its first signal: the next daemon keeps every program stopped", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = { a: sleeper, b: sleeper, c: sleeper, d: sleeper };
    const first = await start({ readyTimeoutMs: SLOW_START_MS, programs, env: { CORRAL_FAILPOINTS: "crash-after-stop-signal" } });
    const up = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "all RUNNING");
    owned.add(up.values());
    await crashDuring(first, first.client.processManager.stopAll({}));
    // Stop-all goes in reverse config order: d got SIGTERM and dies without a daemon; a-c got nothing.
    const signalled = up.get("d")!.run!.pid;
    await waitUntil(() => !isAlive(signalled), 10_000, "d to die of its SIGTERM");
    for (const name of ["a", "b", "c"]) assert.ok(isAlive(up.get(name)!.run!.pid), `${name} was not signalled yet`);

    const second = await start({ readyTimeoutMs: SLOW_START_MS, programs });
    const after = await waitForStates(second, (p) => p.state === ProcessState.STOPPED, "all STOPPED, as the user asked");
    for (const [name, info] of up) {
      assert.deepEqual(processGroupMembers(info.run!.pid), [], `${name}'s run is gone`);
    }
    assert.ok(
      [...after.values()].every((p) => !p.run || p.run.runId === up.get(p.name)!.run!.runId),
      "no new run was started",
    );
  });
});

test("a stop cut short by a SIGKILL right after its signal: the program stays stopped under the next daemon", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = { one: sleeper };
    const first = await start({ readyTimeoutMs: SLOW_START_MS, programs, env: { CORRAL_FAILPOINTS: "crash-after-stop-signal" } });
    const up = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING");
    owned.add(up.values());
    await crashDuring(first, first.client.processManager.stopProcess({ name: "one" }));
    const pid = up.get("one")!.run!.pid;
    await waitUntil(() => !isAlive(pid), 10_000, "the run to die of its SIGTERM");
    const second = await start({ readyTimeoutMs: SLOW_START_MS, programs });
    const after = await waitForStates(second, (p) => p.state === ProcessState.STOPPED, "one STOPPED");
    assert.equal(after.get("one")?.run?.runId, up.get("one")?.run?.runId, "not started again by autorestart: always");
  });
});

test("a restart cut short after its stop signal: the next daemon starts the program (autorestart: never)", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = { web: { ...sleeper, autorestart: "never" } };
    const first = await start({ readyTimeoutMs: SLOW_START_MS, programs, env: { CORRAL_FAILPOINTS: "crash-after-stop-signal" } });
    const up = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING");
    owned.add(up.values());
    await crashDuring(first, first.client.processManager.restartProcess({ name: "web" }));
    const old = up.get("web")!.run!;
    await waitUntil(() => !isAlive(old.pid), 10_000, "the old run to die of its SIGTERM");
    const second = await start({ readyTimeoutMs: SLOW_START_MS, programs });
    const after = await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "web RUNNING again");
    owned.add(after.values());
    assert.ok(after.get("web")!.run!.runId > old.runId, "a new run");
  });
});

test("a restart cut short while the old run ignores SIGTERM: the next daemon adopts it and finishes the restart", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    // An ignored signal stays ignored across exec: sleep itself ignores SIGTERM.
    const stubborn = { command: ["sh", "-c", "trap '' TERM; exec sleep 300"], startsecs: "100ms", stop_timeout: "500ms", autorestart: "never" };
    const first = await start({ readyTimeoutMs: SLOW_START_MS, programs: { stubborn }, env: { CORRAL_FAILPOINTS: "crash-after-stop-signal" } });
    const up = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING");
    owned.add(up.values());
    await crashDuring(first, first.client.processManager.restartProcess({ name: "stubborn" }));
    const old = up.get("stubborn")!.run!;
    assert.ok(isAlive(old.pid), "the old run survived its SIGTERM");
    const second = await start({ readyTimeoutMs: SLOW_START_MS, programs: { stubborn } });
    let now = await listAll(second);
    await waitUntil(
      async () => ((now = await listAll(second)).get("stubborn")?.run?.runId ?? 0n) > old.runId && now.get("stubborn")?.state === ProcessState.RUNNING,
      20_000,
      "a new run of stubborn",
    );
    owned.add(now.values());
    await waitUntil(() => processGroupMembers(old.pid).length === 0, 10_000, "the old run to be stopped (SIGKILL after stop_timeout)");
  });
});

test("a start cut short after the spawn was logged but before the fork: the next daemon starts it, and the programs after it", {
  timeout: 180_000,
}, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const idle = (autorestart: string) => ({ ...sleeper, autostart: false, autorestart });
    const programs = { first: idle("always"), second: idle("never") };
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs, env: { CORRAL_FAILPOINTS: "crash-before-fork" } });
    await crashDuring(daemon, daemon.client.processManager.startAll({ wait: StartWait.NONE }));
    const next = await start({ readyTimeoutMs: SLOW_START_MS, programs });
    const after = await waitForStates(next, (p) => p.state === ProcessState.RUNNING, "both RUNNING, as asked");
    owned.add(after.values());
    for (const info of after.values()) assert.ok(isAlive(info.run!.pid));
  });
});
