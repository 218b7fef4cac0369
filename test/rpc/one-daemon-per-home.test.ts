// One daemon per home: a second `corral server` on a home a live daemon holds exits with a clear
// message having read and changed nothing (no program stopped, no task restarted, no state file
// rewritten, no event appended); after a SIGKILL of the holder the lock is free again.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ProcessState, TaskState, fromValue, toValue } from "../../client/ts/index.js";
import { isAlive, processGroupMembers, spawnDaemon, waitUntil, SLOW_START_MS } from "../helpers/daemon.js";
import { inSharedHome, killDaemon, listAll, waitForStates } from "../helpers/shared-home.js";

const sleeper = { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s", autorestart: "always" };

/** Every file of the state directory with its bytes (the journal, state.json, tasks.json, spawn log, run ids). */
function stateFiles(home: string): Map<string, string> {
  const dir = join(home, "state");
  return new Map(
    readdirSync(dir)
      .sort()
      .map((name) => [name, readFileSync(join(dir, name), "latin1")]),
  );
}

test("a second daemon on a live home exits with a clear message and changes no program, task, state file or event", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    // The exec task's child reports its pid; a second daemon restoring tasks would kill it.
    const script = 'echo "{\\"type\\":\\"status\\",\\"status\\":{\\"pid\\":$$}}"; while read -r line; do :; done';
    const first = await start({ readyTimeoutMs: SLOW_START_MS, programs: { a: sleeper, b: sleeper } });
    const tr = first.client.taskRunner;
    await tr.createTask({ name: "worker", type: "exec", args: toValue({ command: ["sh", "-c", script] }), restore: true });
    await tr.startTask({ name: "worker" });
    let taskPid = 0;
    await waitUntil(
      async () => {
        const { status } = await tr.getStatus({ name: "worker" });
        const value = status ? fromValue(status) : null;
        taskPid = typeof value === "object" && value !== null && !Array.isArray(value) ? Number(value.pid ?? 0) : 0;
        return taskPid > 0;
      },
      10_000,
      "the exec task's child to report its pid",
    );
    owned.addPid(taskPid);
    const before = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "a and b RUNNING");
    owned.add(before.values());
    const pm = first.client.processManager;
    const seqBefore = (await pm.getServerInfo({})).lastEventSeq;
    // The first daemon saves its state in the background after each change: the files are taken
    // once that save of both RUNNING is on disk, so only the second daemon could change them after.
    await waitUntil(
      () => /"a":\{[^}]*"state":"RUNNING".*"b":\{[^}]*"state":"RUNNING"/.test(stateFiles(home).get("state.json") ?? ""),
      10_000,
      "the first daemon's save of a and b RUNNING",
    );
    const filesBefore = stateFiles(home);

    const onlyA = join(home, "only-a.yaml");
    await writeFile(onlyA, JSON.stringify({ programs: { a: sleeper } }));
    const second = spawnDaemon(["--home", home, "--config", onlyA]);
    const exit = await second.exited;
    assert.equal(exit.code, 1, `refused; output: ${second.output()}`);

    const after = await listAll(first);
    for (const name of ["a", "b"]) {
      const was = before.get(name)!;
      const now = after.get(name)!;
      assert.equal(now.state, ProcessState.RUNNING, `${name} still RUNNING (${now.stateReason})`);
      assert.equal(now.run?.runId, was.run?.runId, `${name}: the same run`);
      assert.ok(isAlive(was.run!.pid) && processGroupMembers(was.run!.pid).length > 0, `${name}'s process was not signalled`);
    }
    assert.ok(isAlive(taskPid), "the exec task's child was not killed");
    assert.equal((await tr.getTask({ name: "worker" })).task?.state, TaskState.RUNNING);
    assert.equal((await pm.getServerInfo({})).lastEventSeq, seqBefore, "no event appended (no duplicated sequence numbers)");
    assert.deepEqual(stateFiles(home), filesBefore, "no state file rewritten");
    assert.match(second.output(), new RegExp(`another corral daemon \\(pid ${first.pid}, since [^)]+\\) is running on home ${home}`));
    assert.match(second.output(), /nothing was read or changed/);
  });
});

test("the home lock dies with its daemon: after a SIGKILL the next daemon starts and re-adopts the runs", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const first = await start({ readyTimeoutMs: SLOW_START_MS, programs: { a: sleeper } });
    const running = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "a RUNNING");
    owned.add(running.values());
    // The run outlives the daemon; it must not have inherited the lock's fd.
    await killDaemon(first);
    const second = await start({ readyTimeoutMs: SLOW_START_MS, programs: { a: sleeper } });
    const adopted = await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "a re-adopted");
    assert.equal(adopted.get("a")?.run?.pid, running.get("a")?.run?.pid);
    assert.match(adopted.get("a")?.stateReason ?? "", /re-adopted/);
  });
});
