// The window between a spawn and the next save of the state: a daemon SIGKILLed right after a
// StartProcess returned (before any save), or even between the fork and recording the pid,
// leaves no orphan: the next daemon finds the run (spawn log, or its CORRAL_RUN_ID marker) and
// re-adopts it. Failpoints (server/core/failpoints.ts) hold the daemon at those exact points.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ClientError, ProcessState, StartWait } from "../../client/ts/index.js";
import { findByEnvironment } from "../../server/core/os/environ.js";
import { parseState } from "../../server/core/store/state-store.js";
import { isAlive, journalEvents, processGroupMembers, serverMessages, waitUntil } from "../helpers/daemon.js";
import { inSharedHome, killDaemon, waitForStates } from "../helpers/shared-home.js";

const programs = { late: { command: ["sleep", "300"], autostart: false, startsecs: "100ms", stop_timeout: "2s" } };

/** The run of `name` the saved state.json holds, if any. */
function savedRun(home: string, name: string): unknown {
  const path = join(home, "state", "state.json");
  return existsSync(path) ? parseState(readFileSync(path, "utf8")).programs[name]?.run : undefined;
}

test("a run started right before a daemon SIGKILL, before any state save, is re-adopted by the next daemon", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    // Saves wait 60 s: the kill below lands in the window for sure, as on a slow disk.
    const first = await start({ programs, env: { CORRAL_FAILPOINTS: "state-save-delay-ms=60000" } });
    const started = (await first.client.processManager.startProcess({ name: "late", wait: StartWait.NONE })).process;
    await killDaemon(first);
    const pid = started?.run?.pid ?? 0;
    owned.addPid(pid);
    assert.ok(pid > 0 && isAlive(pid), "the run outlived the daemon");
    assert.equal(savedRun(home, "late"), undefined, "the state file does not know the run: the window was hit");

    const second = await start({ programs });
    const late = (await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "late RUNNING")).get("late");
    assert.equal(late?.run?.pid, pid, "the same process, re-adopted");
    assert.equal(late?.run?.runId, started?.run?.runId);
    assert.match(late?.stateReason ?? "", /re-adopted/);
    await second.client.processManager.stopProcess({ name: "late" });
    assert.deepEqual(processGroupMembers(pid), [], "and stop works on it");
  });
});

test("a daemon killed between the fork and recording the pid: the next daemon finds the run by its CORRAL_RUN_ID and adopts it", {
  timeout: 60_000,
}, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const first = await start({ programs, env: { CORRAL_FAILPOINTS: "crash-after-fork" } });
    await assert.rejects(
      first.client.processManager.startProcess({ name: "late" }),
      (error) => error instanceof ClientError,
      "the daemon dies during the call",
    );
    assert.equal((await first.exited).signal, "SIGKILL");
    await first.stop();
    const spawnLog = readFileSync(join(home, "state", "spawns.jsonl"), "utf8");
    assert.match(spawnLog, /"kind":"intent"/);
    assert.doesNotMatch(spawnLog, /"kind":"spawned"/, "the pid was never recorded");
    // The test finds the orphan the same way, to check and to clean up whatever happens.
    let pids: number[] = [];
    await waitUntil(() => (pids = findByEnvironment({ CORRAL_DAEMON_HOME: home, CORRAL_PROGRAM: "late" })).length > 0, 10_000, "the forked run to exist");
    for (const pid of pids) owned.addPid(pid);
    assert.equal(pids.length, 1);

    const second = await start({ programs });
    const late = (await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "late RUNNING")).get("late");
    assert.equal(late?.run?.pid, pids[0], "the orphan is adopted, not duplicated");
    assert.deepEqual(findByEnvironment({ CORRAL_DAEMON_HOME: home, CORRAL_PROGRAM: "late" }), pids, "still one process of the program");
    assert.match(second.output() + serverMessages(await journalEvents(second)).join("\n"), /found pid \d+ by its CORRAL_RUN_ID/);
    await second.client.processManager.stopProcess({ name: "late" });
    assert.deepEqual(processGroupMembers(pids[0]!), []);
  });
});
