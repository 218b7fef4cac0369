// A daemon's own shutdown does not change what the user asked for (supervisord's and systemd's
// semantics): the programs it stops run again under the next daemon. That holds when the shutdown
// is cut short by a SIGKILL (failpoint crash-during-shutdown=N: after its Nth stop signal) and
// after an orderly one: every program the user wanted running runs (autostart: false ones the
// user started too), programs the user stopped stay stopped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClientError, ProcessState } from "../../client/ts/index.js";
import { isAlive, SLOW_START_MS, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { inSharedHome, listAll, waitForStates } from "../helpers/shared-home.js";

const base = { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s" };
// Config order; stop-all goes in reverse: kept (not running), manual, never, onfail, always.
const programs = {
  always: { ...base, autorestart: "always" },
  onfail: { ...base, autorestart: "on-failure" },
  never: { ...base, autorestart: "never" },
  manual: { ...base, autostart: false, autorestart: "never" },
  kept: { ...base },
};

function configYaml(stopOrder: "parallel" | "sequential"): string {
  return JSON.stringify({ server: { stop_order: stopOrder }, programs });
}

/** First daemon: everything up as the user left it (manual started by hand, kept stopped by hand). */
async function setUp(daemon: TestDaemon) {
  await daemon.client.processManager.startProcess({ name: "manual" });
  await waitForStates(daemon, (p) => p.state === ProcessState.RUNNING, "all RUNNING");
  await daemon.client.processManager.stopProcess({ name: "kept" });
  return listAll(daemon);
}

async function shutdownCrashes(daemon: TestDaemon): Promise<void> {
  // The Shutdown RPC answers before the daemon winds down; the failpoint kills it in the middle.
  await daemon.client.processManager.shutdown({}).catch((error: unknown) => assert.ok(error instanceof ClientError));
  assert.equal((await daemon.exited).signal, "SIGKILL", "killed at the failpoint, in the middle of its shutdown");
  await daemon.stop();
}

async function assertAsTheUserLeftThem(next: TestDaemon, before: Awaited<ReturnType<typeof listAll>>) {
  const after = await waitForStates(
    next,
    (p) => (p.name === "kept" ? p.state === ProcessState.STOPPED : p.state === ProcessState.RUNNING),
    "every program as the user last asked: kept STOPPED, the others RUNNING",
  );
  assert.equal(after.get("kept")?.run?.runId, before.get("kept")?.run?.runId, "kept: not started again");
  return after;
}

test("kill -9 right after the shutdown's first stop signal: the next daemon runs every program the user wanted running", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const first = await start({ readyTimeoutMs: SLOW_START_MS, configYaml: configYaml("parallel"), env: { CORRAL_FAILPOINTS: "crash-during-shutdown" } });
    const before = await setUp(first);
    owned.add(before.values());
    await shutdownCrashes(first);
    // manual is first in reverse order: it got SIGTERM (and dies without a daemon); the others got nothing.
    const signalled = before.get("manual")!.run!.pid;
    await waitUntil(() => !isAlive(signalled), 10_000, "manual to die of its SIGTERM");
    for (const name of ["always", "onfail", "never"]) assert.ok(isAlive(before.get(name)!.run!.pid), `${name} was not signalled yet`);

    const next = await start({ readyTimeoutMs: SLOW_START_MS, configYaml: configYaml("parallel") });
    const after = await assertAsTheUserLeftThem(next, before);
    owned.add(after.values());
    assert.ok(after.get("manual")!.run!.runId > before.get("manual")!.run!.runId, "manual: a new run (its old one was stopped by the shutdown)");
    for (const name of ["always", "onfail", "never"]) assert.equal(after.get(name)?.run?.pid, before.get(name)?.run?.pid, `${name}: re-adopted`);
  });
});

test("kill -9 in a sequential shutdown after one program stopped and the next was signalled: both run again (autorestart: never)", {
  timeout: 180_000,
}, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const first = await start({
      readyTimeoutMs: SLOW_START_MS,
      configYaml: configYaml("sequential"),
      env: { CORRAL_FAILPOINTS: "crash-during-shutdown=2" },
    });
    const before = await setUp(first);
    owned.add(before.values());
    await shutdownCrashes(first);
    for (const name of ["manual", "never"]) {
      const pid = before.get(name)!.run!.pid;
      await waitUntil(() => !isAlive(pid), 10_000, `${name} to be gone`);
    }
    const next = await start({ readyTimeoutMs: SLOW_START_MS, configYaml: configYaml("sequential") });
    const after = await assertAsTheUserLeftThem(next, before);
    owned.add(after.values());
    for (const name of ["manual", "never"]) assert.ok(after.get(name)!.run!.runId > before.get(name)!.run!.runId, `${name}: a new run`);
  });
});

test("after an orderly shutdown the next daemon runs what the user wanted running, autostart: false ones the user started included", {
  timeout: 180_000,
}, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const first = await start({ readyTimeoutMs: SLOW_START_MS, configYaml: configYaml("parallel") });
    const before = await setUp(first);
    owned.add(before.values());
    assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.output());
    const next = await start({ readyTimeoutMs: SLOW_START_MS, configYaml: configYaml("parallel") });
    const after = await assertAsTheUserLeftThem(next, before);
    owned.add(after.values());
  });
});
