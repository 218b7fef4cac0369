// Ad-hoc programs (CreateProgram, not in the config file) survive a daemon SIGKILL: the next
// daemon re-creates them from their saved spec and re-adopts their runs; deleted ones stay deleted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { isAlive, processGroupMembers, waitUntil } from "../helpers/daemon.js";
import { inSharedHome, killDaemon, listAll, waitForStates } from "../helpers/shared-home.js";

const config = JSON.stringify({ server: { allow_adhoc: true }, programs: { cfg: { command: ["sleep", "300"], startsecs: "100ms" } } });

test("ad-hoc programs are re-created by the next daemon after SIGKILL, their runs re-adopted; deleted ones stay deleted", { timeout: 90_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const first = await start({ configYaml: config });
    const pm = first.client.processManager;
    const spec = (name: string) => ({
      name,
      command: ["sleep", "300"],
      startsecs: { seconds: 0n, nanos: 100_000_000 },
      labels: { made: "adhoc" },
      env: { WHO: name },
    });
    await pm.createProgram({ spec: spec("adhoc-a"), start: true });
    await pm.createProgram({ spec: spec("adhoc-b"), start: true });
    await pm.createProgram({ spec: spec("adhoc-c") });
    const before = await waitForStates(first, (p) => p.name === "adhoc-c" || p.state === ProcessState.RUNNING, "cfg, adhoc-a and adhoc-b RUNNING");
    owned.add(before.values());
    const deletedPid = before.get("adhoc-b")?.run?.pid ?? 0;
    await pm.deleteProgram({ name: "adhoc-b" });
    assert.equal(processGroupMembers(deletedPid).length, 0, "a deleted program's run is stopped");

    await killDaemon(first);
    const second = await start({ configYaml: config });
    const after = await listAll(second);
    owned.add(after.values());
    assert.deepEqual([...after.keys()], ["cfg", "adhoc-a", "adhoc-c"], "config programs first, then ad-hoc ones in creation order; the deleted one is gone");
    const a = after.get("adhoc-a");
    assert.equal(a?.state, ProcessState.RUNNING, a?.stateReason);
    assert.equal(a?.adhoc, true);
    assert.equal(a?.run?.pid, before.get("adhoc-a")?.run?.pid, "the same process, re-adopted");
    assert.equal(a?.run?.runId, before.get("adhoc-a")?.run?.runId);
    assert.match(a?.stateReason ?? "", /re-adopted/);
    assert.deepEqual(a?.spec?.labels, { made: "adhoc" }, "its spec is kept");
    assert.equal(a?.spec?.env?.WHO, "adhoc-a");
    assert.equal(after.get("adhoc-c")?.state, ProcessState.STOPPED, "created, never started: stays so");
    assert.equal(after.get("adhoc-c")?.adhoc, true);
    assert.ok(isAlive(before.get("adhoc-a")?.run?.pid ?? 0), "the next daemon did not stop it");

    // Deleting it under the second daemon stops the adopted run and is durable too.
    const adoptedPid = a?.run?.pid ?? 0;
    await second.client.processManager.deleteProgram({ name: "adhoc-a" });
    await waitUntil(() => processGroupMembers(adoptedPid).length === 0, 10_000, "the adopted run to be stopped by DeleteProgram");
    await killDaemon(second);
    const third = await start({ configYaml: config });
    // The set of programs (config and saved ad-hoc ones) is made before the daemon listens.
    const last = await listAll(third);
    owned.add(last.values());
    assert.deepEqual([...last.keys()], ["cfg", "adhoc-c"]);
  });
});

test("after an orderly daemon stop, ad-hoc programs are re-created: the ones that ran run again, the others stay stopped", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const first = await start({ configYaml: config });
    const pm = first.client.processManager;
    await pm.createProgram({ spec: { name: "ran", command: ["sleep", "300"], startsecs: { seconds: 0n, nanos: 100_000_000 } }, start: true });
    await pm.createProgram({ spec: { name: "idle", command: ["sleep", "300"] } });
    owned.add((await waitForStates(first, (p) => p.name === "idle" || p.state === ProcessState.RUNNING, "RUNNING")).values());
    assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.output());

    const second = await start({ configYaml: config });
    const after = await waitForStates(second, (p) => p.name === "idle" || p.state === ProcessState.RUNNING, "cfg and ran RUNNING again");
    owned.add(after.values());
    assert.deepEqual([...after.keys()], ["cfg", "ran", "idle"]);
    assert.equal(after.get("ran")?.adhoc, true);
    // Autostart spawns in config order, and "ran" is before "idle": once "ran" is RUNNING (its
    // startsecs passed), a wrong autostart of "idle" would have made it STARTING at least.
    assert.equal((await listAll(second)).get("idle")?.state, ProcessState.STOPPED, "never started: not autostarted");
  });
});
