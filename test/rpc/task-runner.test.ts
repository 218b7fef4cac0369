// End-to-end specification of the TaskRunner gRPC service: a real daemon whose config lists the
// test task module (dist/test/fixtures/tasks.js), real clients (two connections for locks).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createChannel, createClient } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import reflectionPb from "nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js";
import {
  connect,
  fromValue,
  Status,
  TaskHandle,
  TaskState,
  toValue,
  type CorralClient,
  type JsonValue,
  type TaskRunnerClient,
  type TaskSignal,
} from "../../client/ts/index.js";
import { repoRoot, rpcError, sleep, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

export const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");

/** Collects signals from a WatchSignals stream until `until` says stop (or timeoutMs). */
async function collectSignals(
  tr: TaskRunnerClient,
  request: { tasks?: string[]; names?: string[]; afterSeq?: bigint; liveOnly?: boolean },
  until: (signals: TaskSignal[]) => boolean,
  timeoutMs = 15_000,
): Promise<TaskSignal[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const signals: TaskSignal[] = [];
  try {
    for await (const item of tr.watchSignals(request, { signal: abort.signal })) {
      if (item.kind.case === "signal") signals.push(item.kind.value);
      if (until(signals)) break;
    }
  } catch (error) {
    if (!(error instanceof Error && error.name === "AbortError")) throw error;
    assert.fail(`timed out; got signals: ${signals.map((s) => `${s.task}:${s.name}`).join(", ")}`);
  } finally {
    clearTimeout(timer);
  }
  return signals;
}

describe("TaskRunner over gRPC", () => {
  let daemon: TestDaemon;
  let second: CorralClient;
  const tr = () => daemon.client.taskRunner;
  const handle = (name: string) => new TaskHandle(tr(), name);

  before(async () => {
    daemon = await startTestDaemon({ configYaml: JSON.stringify({ programs: {}, tasks: { modules: [fixtureModule] } }) });
    second = connect({ address: daemon.socketPath });
  });

  after(async () => {
    second?.close();
    await daemon?.stop();
  });

  test("ListTaskTypes shows the module's types with their declared signals and methods", async () => {
    const { types } = await tr().listTaskTypes({});
    const counter = types.find((t) => t.name === "counter");
    assert.ok(counter, `types: ${types.map((t) => t.name).join(", ")}`);
    assert.deepEqual(counter.signals, ["tick"]);
    assert.deepEqual(counter.methods, ["reset", "peek", "explode"]);
    assert.equal(counter.source, fixtureModule);
    const loop = types.find((t) => t.name === "grid_loop");
    assert.equal(loop?.loop, true);
    assert.equal(types.find((t) => t.name === "spinner")?.worker, true);
  });

  test("health is SERVING for corral.v1.TaskRunner and reflection describes it", async () => {
    const channel = createChannel(daemon.address);
    try {
      assert.equal((await createClient(HealthDefinition, channel).check({ service: "corral.v1.TaskRunner" })).status, 1);
      const reflection = createClient(ServerReflectionService, channel);
      async function* one() {
        yield new reflectionPb.ServerReflectionRequest().setFileContainingSymbol("corral.v1.TaskRunner");
      }
      let methods: string[] | undefined;
      for await (const response of reflection.serverReflectionInfo(one())) {
        const files = (response.getFileDescriptorResponse()?.getFileDescriptorProtoList_asU8() ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
        methods = files.find((f) => f.name === "corral/v1/task_runner.proto")?.service[0]?.method.map((m) => m.name);
        break;
      }
      assert.equal(methods?.length, 18);
      assert.ok(methods?.includes("WatchSignals"));
    } finally {
      channel.close();
    }
  });

  test("a task is created (not running), started, stopped through ctx.sleep, and joins as stopped", async () => {
    const task = handle("life");
    const created = await task.create("counter", { interval_ms: 20 });
    assert.equal(created.state, TaskState.CREATED);
    assert.deepEqual(fromValue(created.settings), { step: 1 });
    assert.equal((await task.start()).state, TaskState.RUNNING);
    await waitUntil(async () => ((await task.getStatus()) as { count?: number } | null)?.count !== undefined, 10_000, "a status");
    const stopped = await task.stop();
    assert.equal(stopped.stopRequested, true);
    const outcome = await task.join(10_000);
    assert.equal(outcome.state, TaskState.STOPPED);
    assert.ok(outcome.finishedAt);
    await task.remove();
  });

  test("StartTask only once: a second start is FAILED_PRECONDITION", async () => {
    const task = handle("once");
    await task.create("quick", { x: 1 });
    await task.start();
    const outcome = await task.join(10_000);
    assert.equal(outcome.state, TaskState.COMPLETED);
    assert.deepEqual(await task.getStatus(), { done: true, args: { x: 1 } });
    assert.equal((await rpcError(task.start())).code, Status.FAILED_PRECONDITION);
    await task.remove();
  });

  test("StopTask before start: the task never runs, joins cleanly, and cannot be started", async () => {
    const task = handle("never");
    await task.create("quick");
    assert.equal((await task.stop()).state, TaskState.STOPPED_BEFORE_START);
    assert.equal((await task.join(1_000)).state, TaskState.STOPPED_BEFORE_START);
    assert.equal(await task.getStatus(), null);
    assert.equal((await rpcError(task.start())).code, Status.FAILED_PRECONDITION);
    await task.remove();
  });

  test("a task that throws joins as failed with the error message and stack", async () => {
    const task = handle("fails");
    await task.create("failing", { after_ms: 10 });
    await task.start();
    const outcome = await task.outcome(10_000);
    assert.equal(outcome.state, TaskState.FAILED);
    assert.equal(outcome.error?.message, "calibration diverged");
    assert.match(outcome.error?.stack ?? "", /calibration diverged[\s\S]*at /);
    await task.remove();
  });

  test("a stop error escaping run() is a clean stop", async () => {
    const task = handle("sleepy");
    await task.create("sleeper");
    await task.start();
    await task.stop();
    const outcome = await task.join(5_000);
    assert.equal(outcome.state, TaskState.STOPPED);
    assert.equal(outcome.error, undefined);
    await task.remove();
  });

  test("JoinTask with a deadline returns DEADLINE_EXCEEDED and never blocks StopTask from another client", async () => {
    const task = handle("joined");
    await task.create("sleeper");
    await task.start();
    assert.equal((await rpcError(task.join(100))).code, Status.DEADLINE_EXCEEDED);
    // A long join in flight on one connection; the stop comes from another and ends it.
    const join = task.join(30_000);
    // Calls on one connection reach the server in order: once a later short join on it has timed
    // out, the long one is certainly waiting there (no sleep needed to get it in flight).
    assert.equal((await rpcError(task.join(50))).code, Status.DEADLINE_EXCEEDED);
    await new TaskHandle(second.taskRunner, "joined").stop();
    assert.equal((await join).state, TaskState.STOPPED);
    await task.remove();
  });

  test("CreateTask errors: duplicate name ALREADY_EXISTS, unknown type NOT_FOUND, bad name INVALID_ARGUMENT", async () => {
    await handle("dup").create("quick");
    assert.equal((await rpcError(handle("dup").create("quick"))).code, Status.ALREADY_EXISTS);
    const unknown = await rpcError(handle("u").create("no_such_type"));
    assert.equal(unknown.code, Status.NOT_FOUND);
    assert.match(unknown.details, /no_such_type/);
    const bad = await rpcError(handle("bad name!").create("quick"));
    assert.equal(bad.code, Status.INVALID_ARGUMENT);
    assert.match(bad.details, /name/);
    assert.equal((await rpcError(handle("").create("quick"))).code, Status.INVALID_ARGUMENT);
    await handle("dup").remove();
  });

  test("invalid settings are INVALID_ARGUMENT naming the field, at create and at SetSettings", async () => {
    const atCreate = await rpcError(handle("v1").create("counter", {}, { step: 0 }));
    assert.equal(atCreate.code, Status.INVALID_ARGUMENT);
    assert.match(atCreate.details, /settings\.step/);
    const task = handle("v2");
    await task.create("counter");
    const atSet = await rpcError(task.setSettings({ step: "fast" }));
    assert.equal(atSet.code, Status.INVALID_ARGUMENT);
    assert.match(atSet.details, /settings\.step.*positive integer/);
    assert.equal(await task.getPendingSettings(), undefined);
    await task.remove();
  });

  test("settings are latest-wins: one pending value, applied by the task with settings_updated", async () => {
    const task = handle("tuned");
    // A long interval so the task applies settings only when we expect it to.
    await task.create("counter", { interval_ms: 60_000 });
    await task.setSettings({ step: 5 });
    await task.setSettings({ step: 7 });
    assert.deepEqual(await task.getPendingSettings(), { step: 7 });
    assert.deepEqual(await task.getSettings(), { step: 1 });
    // With replay (no live_only), signals sent before the watch is subscribed are delivered too.
    const updated = collectSignals(tr(), { tasks: ["tuned"], names: ["settings_updated"] }, (s) => s.length >= 1);
    await task.start();
    const [signal] = await updated;
    assert.deepEqual(fromValue(signal!.payload), { step: 7 });
    assert.deepEqual(await task.getSettings(), { step: 7 });
    assert.equal(await task.getPendingSettings(), undefined);
    assert.deepEqual(await task.getStatus(), { count: 7, step: 7 });
    await task.remove(10_000);
  });

  test("GetTask and ListTasks describe tasks in creation order", async () => {
    await handle("list-a").create("quick");
    await handle("list-b").create("counter");
    const { tasks } = await tr().listTasks({});
    const names = tasks.map((t) => t.name).filter((n) => n.startsWith("list-"));
    assert.deepEqual(names, ["list-a", "list-b"]);
    const b = (await tr().getTask({ name: "list-b" })).task!;
    assert.equal(b.type, "counter");
    assert.equal(b.state, TaskState.CREATED);
    assert.equal((await rpcError(tr().getTask({ name: "nope" }))).code, Status.NOT_FOUND);
    await handle("list-a").remove();
    await handle("list-b").remove();
  });

  test("CallMethod calls declared methods; unknown methods are NOT_FOUND", async () => {
    const task = handle("methods");
    await task.create("counter", { interval_ms: 60_000 });
    await task.start();
    await waitUntil(async () => (await task.call("peek")) === 1, 10_000, "the first count");
    assert.deepEqual(await task.call("reset", 40), { previous: 1 });
    assert.equal(await task.call("peek"), 40);
    assert.equal((await rpcError(task.call("run"))).code, Status.NOT_FOUND);
    const failed = await rpcError(task.call("explode"));
    assert.equal(failed.code, Status.FAILED_PRECONDITION);
    assert.match(failed.details, /explode was called/);
    await task.remove(10_000);
  });

  test("RemoveTask stops a running task first, then removes it (removed signal)", async () => {
    const task = handle("doomed");
    await task.create("sleeper");
    await task.start();
    const removed = await task.remove(10_000);
    assert.equal(removed.state, TaskState.STOPPED);
    assert.equal((await rpcError(task.info())).code, Status.NOT_FOUND);
  });

  test("a lock from one client refuses every driving call of another with FAILED_PRECONDITION; reads stay open", async () => {
    const owner = new TaskHandle(tr(), "locked");
    const other = new TaskHandle(second.taskRunner, "locked");
    await owner.create("counter", { interval_ms: 60_000 });
    assert.equal(await owner.lock(), true);
    assert.notEqual(owner.token, "");

    for (const call of [other.start(), other.stop(), other.join(10), other.setSettings({ step: 2 }), other.call("peek"), other.remove()]) {
      const error = await rpcError(call);
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      assert.match(error.details, /locked by another client/);
    }
    // Reads.
    assert.equal((await other.info()).locked, true);
    assert.equal(await other.isLocked(), true);
    assert.deepEqual(await other.getSettings(), { step: 1 });
    assert.equal(await other.getStatus(), null);

    // The holder drives it with its token.
    await owner.start();
    await owner.setSettings({ step: 3 });
    assert.equal(await owner.unlock(), true);
    assert.equal(await other.isLocked(), false);
    await other.stop();
    await other.remove(10_000);
  });

  test("a custom token lets cooperating clients share a lock; a lock request waits and is granted when the lock frees", async () => {
    const a = new TaskHandle(tr(), "shared");
    const b = new TaskHandle(second.taskRunner, "shared", "team-token");
    await a.create("quick");
    assert.equal(await a.lock({ token: "team-token" }), true);
    assert.equal(a.token, "team-token");
    await b.setSettings({ anything: true }); // same token, accepted
    // A third party without the token: not granted at once; granted soon after the unlock.
    const c = new TaskHandle(second.taskRunner, "shared");
    assert.equal(await c.lock({ timeoutMs: 0 }), false);
    const waiting = c.lock({ timeoutMs: 60_000 });
    // Calls on one connection reach the server in order: once a later try on it was refused, the
    // waiting request is queued there, so the unlock below is what grants it (a timeout says false).
    assert.equal(await new TaskHandle(second.taskRunner, "shared").lock({ timeoutMs: 0 }), false);
    await a.unlock();
    assert.equal(await waiting, true);
    assert.notEqual(c.token, "team-token");
    assert.equal((await rpcError(a.start())).code, Status.FAILED_PRECONDITION);
    // Unlock with a wrong token is refused; ForceUnlock always works.
    assert.equal((await rpcError(tr().unlock({ name: "shared", token: "guess" }))).code, Status.FAILED_PRECONDITION);
    assert.equal((await tr().forceUnlock({ name: "shared" })).wasLocked, true);
    assert.equal((await tr().forceUnlock({ name: "shared" })).wasLocked, false);
    await a.remove();
  });

  test("a lock with a lease expires unless renewed, with a lock_expired signal", async () => {
    const task = new TaskHandle(tr(), "leased");
    await task.create("quick");
    const expired = collectSignals(tr(), { tasks: ["leased"], names: ["lock_expired"] }, (s) => s.length >= 1, 30_000);
    const leaseMs = 4_000;
    const lockedAt = performance.now();
    assert.equal(await task.lock({ leaseMs }), true);
    // Renewing (Lock again with the same token) pushes the expiry out: past the first lease's end
    // it still holds. (Time passing is what is tested here, so sleeping is the point.)
    await sleep(1_000);
    assert.equal(await task.lock({ leaseMs }), true);
    const renewedAt = performance.now();
    assert.ok(renewedAt - lockedAt < leaseMs, `the renewal must come before the first lease ends (came after ${renewedAt - lockedAt} ms)`);
    await sleep(lockedAt + leaseMs + 500 - performance.now());
    assert.equal(await task.isLocked(), true, "the renewed lease must still hold");
    await expired;
    assert.equal(await task.isLocked(), false);
    // Once expired, another client may drive the task.
    await new TaskHandle(second.taskRunner, "leased").remove();
  });

  test("WatchSignals streams lifecycle, settings, status and custom signals with increasing seq, filtered by task and name", async () => {
    // With replay (no live_only) nothing is missed between subscribing and the first signal.
    const watch = collectSignals(tr(), { tasks: ["sig"] }, (s) => s.some((x) => x.name === "removed"));
    const ticks = collectSignals(tr(), { tasks: ["sig"], names: ["tick"] }, (s) => s.length >= 2);
    const task = handle("sig");
    await task.create("counter", { interval_ms: 30 });
    await task.start();
    await ticks;
    await task.remove(10_000);
    const signals = await watch;
    const names = signals.map((s) => s.name);
    for (const name of ["created", "started", "status_updated", "tick", "stop_requested", "stopped", "removed"]) {
      assert.ok(names.includes(name), `missing ${name} in ${names.join(",")}`);
    }
    assert.ok(names.indexOf("created") < names.indexOf("started"));
    assert.ok(names.indexOf("stopped") < names.indexOf("removed"));
    for (let i = 1; i < signals.length; i++) assert.ok(signals[i]!.seq > signals[i - 1]!.seq);
    assert.ok(signals.every((s) => s.task === "sig" && s.time !== undefined));
    const tickValues = (await ticks).map((s) => fromValue(s.payload));
    assert.deepEqual(tickValues, [1, 2]);
  });

  test("WatchSignals resumes after a seq, and the subscription survives the task being removed and re-created", async () => {
    const all = collectSignals(tr(), { tasks: ["phoenix"], names: ["created", "removed"] }, (s) => s.length >= 4);
    await handle("phoenix").create("quick");
    await handle("phoenix").remove();
    await handle("phoenix").create("quick");
    await handle("phoenix").remove();
    const got = await all;
    assert.deepEqual(
      got.map((s) => s.name),
      ["created", "removed", "created", "removed"],
    );
    // Replay: everything after the first "created" is still held.
    const replay = await collectSignals(tr(), { tasks: ["phoenix"], names: ["created", "removed"], afterSeq: got[0]!.seq }, (s) => s.length >= 3);
    assert.deepEqual(
      replay.map((s) => s.seq),
      got.slice(1).map((s) => s.seq),
    );
  });

  test("JSON values round-trip through google.protobuf.Value", async () => {
    const value: JsonValue = { a: [1, "two", null, true], b: { c: 1.5 } };
    assert.deepEqual(fromValue(toValue(value)), value);
    const task = handle("json");
    await task.create("quick", value);
    assert.deepEqual(fromValue((await task.info()).args), value);
    await task.remove();
  });
});
