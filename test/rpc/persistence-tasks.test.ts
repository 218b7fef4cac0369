// Tasks across daemon restarts: a task created with restore is re-created by the next daemon with
// its last applied settings and started again if it was running (the journal says so); tasks
// without restore, removed tasks and tasks the user stopped are not run again; an exec task's
// child left by a killed daemon is stopped (it cannot be re-adopted) and a fresh one started.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { fromValue, TaskState, toValue, type JsonValue, type TaskInfo } from "../../client/ts/index.js";
import { isAlive, journalEvents, processGroupMembers, serverMessages, repoRoot, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { inSharedHome, killDaemon } from "../helpers/shared-home.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");
const config = JSON.stringify({ programs: {}, tasks: { modules: [fixtureModule] } });

async function tasksByName(daemon: TestDaemon): Promise<Map<string, TaskInfo>> {
  const { tasks } = await daemon.client.taskRunner.listTasks({});
  return new Map(tasks.map((t) => [t.name, t]));
}

async function statusOf(daemon: TestDaemon, name: string): Promise<Record<string, JsonValue>> {
  const { status } = await daemon.client.taskRunner.getStatus({ name });
  const value = status ? fromValue(status) : null;
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
}

test("after SIGKILL of the daemon, tasks created with restore come back with their last applied settings, running if they ran", {
  timeout: 90_000,
}, async () => {
  await inSharedHome(async ({ start }) => {
    const first = await start({ configYaml: config });
    const tr = first.client.taskRunner;
    const counter = (name: string, restore: boolean, step: number) =>
      tr.createTask({ name, type: "counter", args: toValue({ interval_ms: 50 }), settings: toValue({ step }), restore });
    assert.equal((await counter("keeper", true, 1)).task?.restore, true);
    await tr.startTask({ name: "keeper" });
    await tr.setSettings({ name: "keeper", settings: toValue({ step: 7 }) });
    await waitUntil(async () => (await statusOf(first, "keeper")).step === 7, 10_000, "keeper to apply step 7");
    await counter("idle", true, 3);
    await counter("plain", false, 1);
    await tr.startTask({ name: "plain" });
    await counter("removed", true, 1);
    await tr.removeTask({ name: "removed" });
    await counter("user-stopped", true, 2);
    await tr.startTask({ name: "user-stopped" });
    await tr.stopTask({ name: "user-stopped" });
    await tr.joinTask({ name: "user-stopped", timeout: { seconds: 10n, nanos: 0 } });
    // A pending value the task never applied is not "last applied settings".
    await counter("pending", true, 4);
    await tr.setSettings({ name: "pending", settings: toValue({ step: 9 }) });

    await killDaemon(first);
    const second = await start({ configYaml: config });
    const tasks = await tasksByName(second);
    assert.deepEqual([...tasks.keys()].sort(), ["idle", "keeper", "pending", "user-stopped"], "restore tasks only; removed stays removed");
    const keeper = tasks.get("keeper");
    assert.equal(keeper?.state, TaskState.RUNNING, "it was running: started again");
    assert.equal(keeper?.restored, true);
    assert.deepEqual(fromValue(keeper.settings!), { step: 7 }, "the last applied settings");
    // The counter starts over (a TS task cannot outlive the daemon) and counts by 7 at once.
    await waitUntil(async () => (await statusOf(second, "keeper")).step === 7, 10_000, "keeper to run with step 7");
    assert.equal(tasks.get("idle")?.state, TaskState.CREATED, "never started: re-created, not started");
    assert.deepEqual(fromValue(tasks.get("idle")!.settings!), { step: 3 });
    assert.equal(tasks.get("user-stopped")?.state, TaskState.CREATED, "stopped by the user: not started again");
    assert.deepEqual(fromValue(tasks.get("pending")!.settings!), { step: 4 });

    const restored = (await journalEvents(second)).flatMap((e) => (e.detail.case === "taskRestored" ? [e.detail.value] : []));
    assert.deepEqual(
      restored.map((r) => `${r.task} ${r.type} ${r.started}`).sort(),
      ["idle counter false", "keeper counter true", "pending counter false", "user-stopped counter false"],
      "the journal says which tasks were restored and which started",
    );

    // Settings changed now are what a third daemon gets; RemoveTask forgets the task for good.
    await second.client.taskRunner.setSettings({ name: "keeper", settings: toValue({ step: 11 }) });
    await waitUntil(async () => (await statusOf(second, "keeper")).step === 11, 10_000, "keeper to apply step 11");
    await second.client.taskRunner.removeTask({ name: "idle" });
    await killDaemon(second);
    const third = await start({ configYaml: config });
    const again = await tasksByName(third);
    assert.deepEqual([...again.keys()].sort(), ["keeper", "pending", "user-stopped"]);
    assert.deepEqual(fromValue(again.get("keeper")!.settings!), { step: 11 });
    assert.equal(again.get("keeper")?.state, TaskState.RUNNING);
  });
});

test("an orderly daemon stop does not count as the user's stop: a running restore task runs again under the next daemon", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ start }) => {
    const first = await start({ configYaml: config });
    await first.client.taskRunner.createTask({ name: "keeper", type: "counter", args: toValue({ interval_ms: 50 }), restore: true });
    await first.client.taskRunner.startTask({ name: "keeper" });
    assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.output());
    const second = await start({ configYaml: config });
    assert.equal((await tasksByName(second)).get("keeper")?.state, TaskState.RUNNING);
  });
});

test("an exec task's child left by a killed daemon is stopped (it cannot be re-adopted) and the restored task starts a fresh child", {
  timeout: 60_000,
}, async () => {
  await inSharedHome(async ({ owned, start }) => {
    // Reports its pid, then outlives its stdin (the daemon's pipe) like a child that ignores EOF.
    const script = 'echo "{\\"type\\":\\"status\\",\\"status\\":{\\"pid\\":$$}}"; while read -r line; do :; done; sleep 300';
    const first = await start({ configYaml: config });
    await first.client.taskRunner.createTask({
      name: "worker",
      type: "exec",
      args: toValue({ command: ["sh", "-c", script], stop_timeout_ms: 500 }),
      restore: true,
    });
    await first.client.taskRunner.startTask({ name: "worker" });
    let oldPid = 0;
    await waitUntil(async () => (oldPid = Number((await statusOf(first, "worker")).pid ?? 0)) > 0, 10_000, "the exec child to report its pid");
    owned.addPid(oldPid);

    await killDaemon(first);
    assert.ok(isAlive(oldPid), "the child outlived the daemon (it would be an orphan)");
    const second = await start({ configYaml: config });
    let newPid = 0;
    await waitUntil(async () => (newPid = Number((await statusOf(second, "worker")).pid ?? 0)) > 0, 10_000, "the fresh child to report its pid");
    owned.addPid(newPid);
    assert.notEqual(newPid, oldPid, "a fresh child, not the old one");
    await waitUntil(() => processGroupMembers(oldPid).length === 0, 10_000, `the old child's group ${oldPid} to be stopped`);
    assert.match(second.output() + serverMessages(await journalEvents(second)).join("\n"), /stopping process group \d+ left by the previous daemon/);
    await second.client.taskRunner.removeTask({ name: "worker", timeout: { seconds: 20n, nanos: 0 } });
    await waitUntil(() => processGroupMembers(newPid).length === 0, 10_000, "the fresh child to be stopped with its task");
  });
});

test("a restore task whose type a daemon does not have is reported and kept for a later daemon that has it", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ start }) => {
    const first = await start({ configYaml: config });
    await first.client.taskRunner.createTask({
      name: "keeper",
      type: "counter",
      args: toValue({ interval_ms: 50 }),
      settings: toValue({ step: 5 }),
      restore: true,
    });
    await first.client.taskRunner.startTask({ name: "keeper" });
    await killDaemon(first);

    const withoutModule = await start({ configYaml: JSON.stringify({ programs: {} }) });
    assert.equal((await tasksByName(withoutModule)).size, 0);
    const events = await journalEvents(withoutModule);
    assert.ok(
      events.some((e) => e.detail.case === "server" && /task "keeper" \(type counter\) .*could not be re-created: .*kept/.test(e.detail.value.message)),
      "reported in the journal",
    );
    await killDaemon(withoutModule);

    const third = await start({ configYaml: config });
    const keeper = (await tasksByName(third)).get("keeper");
    assert.equal(keeper?.state, TaskState.RUNNING);
    assert.deepEqual(fromValue(keeper.settings!), { step: 5 });
  });
});
