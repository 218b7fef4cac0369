// Specification of the QMI parity of the TaskRunner through the TS client against a real daemon:
// join() throws TaskFailedError, refusals answer a testable outcome (reason trailer, boolean),
// force_unlock on the handle, custom methods that read and set pending settings atomically, and
// exec tasks with methods whose settings stay pending until the child takes them.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  isProcessRunning,
  listProcesses,
  listZombies,
  processPids,
  stopAll,
  ShutdownHow,
  StartWait,
  Status,
  TaskFailedError,
  TaskHandle,
  TaskRefusedError,
  TaskState,
  type JsonValue,
} from "../../client/ts/index.js";
import { repoRoot, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");
const execMethods = join(repoRoot, "test/fixtures/exec_methods.py");

describe("task parity with QMI (TS client)", () => {
  let daemon: TestDaemon;
  const handle = (name: string) => new TaskHandle(daemon.client.taskRunner, name);

  before(async () => {
    daemon = await startTestDaemon({ configYaml: JSON.stringify({ programs: {}, tasks: { modules: [fixtureModule] } }) });
  });
  after(async () => {
    await daemon?.stop();
  });

  test("join() of a failed task throws TaskFailedError with the task's message and stack; outcome() returns it", async () => {
    const task = handle("parity-fails");
    await task.create("failing", { after_ms: 10 });
    await task.start();
    const error = await task.join(10_000).then(
      () => assert.fail("join resolved"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskFailedError, String(error));
    assert.equal(error.taskMessage, "calibration diverged");
    assert.match(error.taskStack, /calibration diverged[\s\S]*at /);
    assert.equal(error.task.state, TaskState.FAILED);
    assert.equal((await task.outcome(1_000)).error?.message, "calibration diverged");
    await task.remove();
  });

  test("a second start: TaskRefusedError FAILED_PRECONDITION with reason TASK_ALREADY_STARTED; tryStart() answers false", async () => {
    const task = handle("parity-once");
    await task.create("quick");
    assert.equal(await task.tryStart(), true);
    await task.join(10_000);
    const error = await task.start().then(
      () => assert.fail("second start resolved"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskRefusedError);
    assert.equal(error.code, Status.FAILED_PRECONDITION);
    assert.equal(error.reason, "TASK_ALREADY_STARTED");
    assert.equal(await task.tryStart(), false);
    await task.remove();
  });

  test("unlock by a non-holder answers false (outcome not_holder, reason LOCK_NOT_HOLDER); forceUnlock on the handle frees it", async () => {
    const owner = handle("parity-lock");
    const other = new TaskHandle(daemon.client.taskRunner, "parity-lock", "not-the-token");
    await owner.create("quick");
    assert.equal(await owner.lock(), true);
    assert.equal(await other.unlockOutcome(), "not_holder");
    assert.equal(await other.unlock(), false);
    const refused = await other.start().then(
      () => assert.fail("start by a non-holder resolved"),
      (e: unknown) => e,
    );
    assert.ok(refused instanceof TaskRefusedError && refused.reason === "TASK_LOCKED");
    assert.equal(await owner.isLocked(), true);
    assert.equal(await new TaskHandle(daemon.client.taskRunner, "parity-lock").forceUnlock(), true);
    assert.equal(await owner.isLocked(), false);
    assert.equal(await owner.unlockOutcome(), "not_locked");
    await owner.remove();
  });

  test("a custom method reads the pending settings, changes one field and sets them (QMI's set_param); they stay pending", async () => {
    const task = handle("parity-tuner");
    await task.create("tuner");
    await task.start();
    await task.setSettings({ param: 1, other: "from client" });
    assert.deepEqual(await task.call("set_param", 7), { param: 7, other: "from client" });
    assert.deepEqual(await task.getPendingSettings(), { param: 7, other: "from client" });
    assert.deepEqual(await task.getSettings(), { param: 0, other: "keep" });
    // Validated like SetSettings.
    const bad = await task.call("set_param", "seven").then(
      () => assert.fail("bad settings accepted"),
      (e: unknown) => e as { code?: Status; details?: string },
    );
    assert.equal(bad.code, Status.INVALID_ARGUMENT);
    assert.match(bad.details ?? "", /settings\.param/);
    await task.remove(10_000);
  });

  test("exec task: declared methods reach the child; with hold_settings, settings stay pending until the child takes them", async () => {
    const task = handle("parity-exec");
    await task.create("exec", { command: ["python3", execMethods], methods: ["set_param", "take"], hold_settings: true });
    await task.start();
    await waitUntil(async () => ((await task.getStatus()) as { settings?: unknown } | null)?.settings !== undefined, 10_000, "the child's start");
    await task.setSettings({ param: 1, other: "x" });
    // Kept pending: the child was told, nothing applied.
    assert.deepEqual(await task.getPendingSettings(), { param: 1, other: "x" });
    assert.equal(await task.getSettings(), null);
    // The child's method reads the pending settings and sets new ones (atomically).
    assert.deepEqual(await task.call("set_param", 5), { param: 5, other: "x" });
    assert.deepEqual(await task.getPendingSettings(), { param: 5, other: "x" });
    // The child takes them.
    assert.equal(await task.call("take"), "asked");
    await waitUntil(async () => JSON.stringify(await task.getSettings()) === JSON.stringify({ param: 5, other: "x" }), 10_000, "settings applied");
    assert.equal(await task.getPendingSettings(), undefined);
    const unknown = await task.call("nope").then(
      () => assert.fail("undeclared method called"),
      (e: unknown) => e as { code?: Status },
    );
    assert.equal(unknown.code, Status.NOT_FOUND);
    const status = (await task.getStatus()) as { settings?: JsonValue; updated?: boolean };
    assert.equal(status.updated, true);
    await task.remove(10_000);
  });
});

/**
 * Notes TERM, takes 300 ms, notes its exit: a stop-all that overlaps two programs shows it in the
 * file. RUNNING once it says "ready", after its trap is set (a TERM before that would just kill it).
 */
const slowToStop = (name: string, file: string) => ({
  command: [
    "/bin/sh",
    "-c",
    `trap 'echo TERM ${name} >> ${file}; sleep 0.3; echo EXIT ${name} >> ${file}; exit 0' TERM; echo ready; while true; do sleep 0.05; done`,
  ],
  autostart: false,
  stop_timeout: "10s",
  readiness: { log: "^ready$", period: "50ms" },
});

describe("CGSE helpers and ShutdownResult (TS client)", () => {
  let daemon: TestDaemon;
  let orderFile = "";
  before(async () => {
    orderFile = join(await mkdtemp(join(tmpdir(), "corral-order-")), "order");
    daemon = await startTestDaemon({
      configYaml: JSON.stringify({
        programs: {
          marked: { command: ["sleep", "1002"], autostart: false, startsecs: 0 },
          seq_a: slowToStop("seq_a", orderFile),
          seq_b: slowToStop("seq_b", orderFile),
        },
      }),
    });
  });
  after(async () => {
    await daemon?.stop();
    if (orderFile) await rm(dirname(orderFile), { recursive: true, force: true });
  });

  test("isProcessRunning / processPids / listZombies; a stop's ShutdownResult says soft, then not running", async () => {
    const pm = daemon.client.processManager;
    const pid = (await pm.startProcess({ name: "marked", wait: StartWait.RUNNING })).process!.run!.pid;
    const monitor = daemon.client.processMonitor;
    assert.deepEqual(await processPids(monitor, ["sleep", "1002"]), [pid]);
    assert.equal(await isProcessRunning(monitor, "SLEEP 1002", { caseSensitive: true }), false);
    assert.ok(Array.isArray(await listZombies(monitor)));
    const stopped = await pm.stopProcess({ name: "marked" });
    assert.deepEqual([stopped.shutdown?.wasRunning, stopped.shutdown?.pid, stopped.shutdown?.how], [true, pid, ShutdownHow.SOFT]);
    const again = await pm.stopProcess({ name: "marked" });
    assert.deepEqual([again.shutdown?.wasRunning, again.shutdown?.pid, again.shutdown?.how], [false, 0, ShutdownHow.NOT_RUNNING]);
  });

  test("listProcesses is CGSE's list_processes: pid, status and command line of each match; no items is refused", async () => {
    const pm = daemon.client.processManager;
    const pid = (await pm.startProcess({ name: "marked", wait: StartWait.RUNNING })).process!.run!.pid;
    const monitor = daemon.client.processMonitor;
    try {
      // Once the child has exec'd sleep (RUNNING comes at once with startsecs 0), it is listed as sleeping.
      const expected = JSON.stringify([{ pid, status: "sleeping", cmdline: "sleep 1002" }]);
      let listed = "";
      await waitUntil(
        async () => (listed = JSON.stringify(await listProcesses(monitor, ["sleep", "1002"], { contains: false }))) === expected,
        10_000,
        `the listing ${expected}; last ${listed}`,
      );
      assert.deepEqual(await listProcesses(monitor, "SLEEP 1002", { caseSensitive: true }), []);
      const none = await rpcError(listProcesses(monitor, []), "no items");
      assert.equal(none.code, Status.INVALID_ARGUMENT);
    } finally {
      await pm.stopProcess({ name: "marked" });
    }
  });

  test("stopAll({sequential: true}) stops one program at a time in reverse order, each gone before the next", async () => {
    const pm = daemon.client.processManager;
    await writeFile(orderFile, "");
    for (const name of ["seq_a", "seq_b"]) await pm.startProcess({ name, wait: StartWait.RUNNING });
    const results = await stopAll(pm, { names: ["seq_a", "seq_b"], sequential: true });
    assert.deepEqual(
      results.map((r) => [r.name, r.ok, r.shutdown?.how]),
      [
        ["seq_b", true, ShutdownHow.SOFT],
        ["seq_a", true, ShutdownHow.SOFT],
      ],
    );
    assert.deepEqual((await readFile(orderFile, "utf8")).trim().split("\n"), ["TERM seq_b", "EXIT seq_b", "TERM seq_a", "EXIT seq_a"]);
  });
});
