// Hostile and bad input against a real daemon: bad names (empty, unicode, control characters,
// path traversal), bad durations, enums and signals, oversized messages, garbage protobuf
// frames on every method, fuzzed config text, and racing clients on one program. Each must get
// a clear error, and the daemon must stay up with its programs as they were.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ClientError,
  connect,
  ProcessManager,
  ProcessMonitor,
  ProcessState,
  type LogStream,
  type RestartPolicy,
  type StartWait,
  Status,
  type StopWait,
  TaskRunner,
  type CorralClient,
} from "../../client/ts/index.js";
import { isAlive, rpcError, sleep, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

/** Deterministic PRNG (mulberry32), so a failing fuzz case can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) void _;
}

const deadline = (ms = 10_000) => ({ deadline: new Date(Date.now() + ms) });
const sleeper = { command: ["sleep", "300"], startsecs: 0, stop_timeout: "2s" };
// Ignores SIGTERM, so that every stop goes the long way (SIGKILL after stop_timeout).
const stubborn = (tag: string) => ({
  command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.2; done"],
  startsecs: 0,
  stop_timeout: "150ms",
  env: { TAG: tag },
});

/** Live processes whose environment has CORRAL_PROGRAM=program, by CORRAL_RUN_ID. */
function liveRunsOf(program: string): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue;
    }
    const vars = environ.split("\0");
    if (!vars.includes(`CORRAL_PROGRAM=${program}`)) continue;
    const pid = Number(entry);
    if (!isAlive(pid)) continue;
    const runId = vars.find((v) => v.startsWith("CORRAL_RUN_ID="))?.slice("CORRAL_RUN_ID=".length) ?? "?";
    runs.set(runId, [...(runs.get(runId) ?? []), pid]);
  }
  return runs;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe("hostile and bad input", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;
  const tr = () => daemon.client.taskRunner;
  const mon = () => daemon.client.processMonitor;
  // A name no other test file uses: /proc is shared by the test files running in parallel.
  const racer = `racer-${process.pid}`;

  /** Every program's state, run id and pid: what "no program changed state" compares. */
  const snapshot = async (): Promise<string> => {
    const { processes } = await pm().listProcesses({}, deadline());
    return JSON.stringify(processes.map((p) => [p.name, p.state, String(p.run?.runId ?? 0n), p.run?.pid ?? 0]).sort());
  };

  const expectUnchanged = async (before: string, what: string) => {
    assert.equal(await snapshot(), before, `${what}: programs changed state`);
    const info = await pm().getServerInfo({}, deadline());
    assert.ok(info.version !== undefined, "the daemon still answers");
  };

  before(async () => {
    daemon = await startTestDaemon({
      configYaml: JSON.stringify({
        server: { allow_adhoc: true },
        programs: { steady: sleeper, idle: { ...sleeper, autostart: false } },
      }),
    });
    await waitUntil(async () => (await pm().getProcess({ name: "steady" })).process?.state === ProcessState.RUNNING, 10_000, "steady RUNNING");
  });

  after(async () => {
    const pids = [...liveRunsOf(racer).values()].flat();
    await daemon?.stop();
    assert.deepEqual(pids.filter(isAlive), [], "the daemon stopped every run");
  });

  const badNames = ["", "../../etc/passwd", "a/b", "..", "/abs", "ünï名前", "a\u0000b", "a\nb", "\u001b[31mred", "x".repeat(300)];

  test("bad names get INVALID_ARGUMENT or NOT_FOUND on every RPC that takes a name, and write nothing outside the logs dir", async () => {
    const before = await snapshot();
    const homeFilesBefore = new Set(filesUnder(daemon.home));
    for (const name of badNames) {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["GetProcess", () => pm().getProcess({ name }, deadline())],
        ["StartProcess", () => pm().startProcess({ name }, deadline())],
        ["StopProcess", () => pm().stopProcess({ name }, deadline())],
        ["RestartProcess", () => pm().restartProcess({ name }, deadline())],
        ["SignalProcess", () => pm().signalProcess({ name, signal: "SIGTERM" }, deadline())],
        ["ReadLogs", () => pm().readLogs({ name }, deadline())],
        ["FollowLogs", () => drain(pm().followLogs({ name }, deadline()))],
        ["WriteStdin", () => pm().writeStdin({ name, data: new Uint8Array([1]) }, deadline())],
        ["CloseStdin", () => pm().closeStdin({ name }, deadline())],
        ["DeleteProgram", () => pm().deleteProgram({ name }, deadline())],
        ["CreateProgram", () => pm().createProgram({ spec: { name, command: ["sleep", "300"] }, start: true }, deadline())],
        ["StartAll", () => pm().startAll({ selector: { names: [name] } }, deadline())],
        ["StopAll", () => pm().stopAll({ selector: { names: [name] } }, deadline())],
        ["CreateTask", () => tr().createTask({ name, type: "sleep" }, deadline())],
        ["CreateTask type", () => tr().createTask({ name: "t", type: name }, deadline())],
        ["StartTask", () => tr().startTask({ name }, deadline())],
        ["StopTask", () => tr().stopTask({ name }, deadline())],
        ["JoinTask", () => tr().joinTask({ name }, deadline())],
        ["GetTask", () => tr().getTask({ name }, deadline())],
        ["RemoveTask", () => tr().removeTask({ name }, deadline())],
        ["SetSettings", () => tr().setSettings({ name }, deadline())],
        ["GetSettings", () => tr().getSettings({ name }, deadline())],
        ["GetPendingSettings", () => tr().getPendingSettings({ name }, deadline())],
        ["GetStatus", () => tr().getStatus({ name }, deadline())],
        ["CallMethod", () => tr().callMethod({ name, method: "m" }, deadline())],
        ["Lock", () => tr().lock({ name }, deadline())],
        ["Unlock", () => tr().unlock({ name, token: "t" }, deadline())],
        ["ForceUnlock", () => tr().forceUnlock({ name }, deadline())],
        ["IsLocked", () => tr().isLocked({ name }, deadline())],
        ["GetStats", () => mon().getStats({ target: { target: { case: "program", value: name } } }, deadline())],
      ];
      for (const [method, call] of calls) {
        const what = `${method}(${JSON.stringify(name)})`;
        const error = await rpcError(call(), what);
        // StartAll/StopAll with an unknown name and the others: NOT_FOUND; malformed: INVALID_ARGUMENT.
        assert.ok([Status.INVALID_ARGUMENT, Status.NOT_FOUND].includes(error.code), `${what}: got ${Status[error.code]}: ${error.details}`);
        if (error.code === Status.INVALID_ARGUMENT) assert.match(error.details, /name|type|target|program/i, `${what}: the error names the field`);
        if (method === "CreateProgram" || method === "CreateTask") {
          assert.equal(error.code, Status.INVALID_ARGUMENT, `${what}: a malformed new name is INVALID_ARGUMENT`);
        }
      }
    }
    await expectUnchanged(before, "bad names");
    // Nothing new outside logs/, and nothing new inside it but files of existing programs.
    const created = filesUnder(daemon.home)
      .filter((path) => !homeFilesBefore.has(path))
      .map((path) => relative(daemon.home, path));
    for (const path of created) {
      assert.ok(/^(logs\/(steady|idle)[./]|state|journal|[^/]*\.(json|jsonl|db|tmp)$)/.test(path), `unexpected new file ${path}`);
    }
    assert.ok(!filesUnder(daemon.home).some((path) => path.includes("passwd")), "no traversal file");
  });

  test("negative, huge and malformed durations, unknown enum values and unknown signals are INVALID_ARGUMENT naming the field", async () => {
    const before = await snapshot();
    const negative = { seconds: -1n, nanos: 0 };
    const huge = { seconds: 10n ** 12n, nanos: 0 };
    const badNanos = { seconds: 0n, nanos: 2_000_000_000 };
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [];
    for (const [label, timeout] of [
      ["negative", negative],
      ["huge", huge],
      ["bad nanos", badNanos],
    ] as const) {
      cases.push(
        [`StartProcess ${label} timeout`, () => pm().startProcess({ name: "idle", timeout }, deadline()), /timeout/],
        [`StopProcess ${label} timeout`, () => pm().stopProcess({ name: "steady", timeout }, deadline()), /timeout/],
        [`RestartProcess ${label} timeout`, () => pm().restartProcess({ name: "steady", timeout }, deadline()), /timeout/],
        [`StopAll ${label} timeout`, () => pm().stopAll({ timeout }, deadline()), /timeout/],
        [`StartAll ${label} timeout`, () => pm().startAll({ timeout }, deadline()), /timeout/],
        [`JoinTask ${label} timeout`, () => tr().joinTask({ name: "none", timeout }, deadline()), /timeout|none/],
        [`Lock ${label} lease`, () => tr().lock({ name: "none", lease: timeout }, deadline()), /lease|none/],
        [
          `GetStats ${label} interval`,
          () => mon().getStats({ target: { target: { case: "program", value: "steady" } }, interval: timeout }, deadline()),
          /interval/,
        ],
        [`RunMonitored ${label} total_timeout`, () => drain(mon().runMonitored({ command: "true", totalTimeout: timeout }, deadline())), /total_timeout/],
        [
          `CreateProgram ${label} startsecs`,
          () => pm().createProgram({ spec: { name: "bad-duration", command: ["true"], startsecs: timeout } }, deadline()),
          /startsecs/,
        ],
      );
    }
    cases.push(
      ["StartProcess wait=99", () => pm().startProcess({ name: "idle", wait: 99 as StartWait }, deadline()), /wait/],
      ["StopProcess wait=99", () => pm().stopProcess({ name: "steady", wait: 99 as StopWait }, deadline()), /wait/],
      ["RestartProcess wait=-1", () => pm().restartProcess({ name: "steady", wait: -1 as StartWait }, deadline()), /wait/],
      ["StopAll wait=99", () => pm().stopAll({ wait: 99 as StopWait }, deadline()), /wait/],
      ["ReadLogs stream=99", () => pm().readLogs({ name: "steady", stream: 99 as LogStream }, deadline()), /stream/],
      [
        "CreateProgram autorestart=99",
        () => pm().createProgram({ spec: { name: "bad-enum", command: ["true"], autorestart: 99 as RestartPolicy } }, deadline()),
        /autorestart/,
      ],
      ["SignalProcess empty", () => pm().signalProcess({ name: "steady", signal: "" }, deadline()), /signal/],
    );
    for (const signal of ["SIGFOO", "99999", "-9", "../KILL", "SIG\u0000KILL", "1e3"]) {
      cases.push([`SignalProcess ${JSON.stringify(signal)}`, () => pm().signalProcess({ name: "steady", signal }, deadline()), /signal/]);
      cases.push([
        `RunMonitored kill_signal ${JSON.stringify(signal)}`,
        () => drain(mon().runMonitored({ command: "true", killSignal: signal }, deadline())),
        /signal/,
      ]);
    }
    for (const [what, call, field] of cases) {
      const error = await rpcError(call(), what);
      assert.ok([Status.INVALID_ARGUMENT, Status.NOT_FOUND].includes(error.code), `${what}: got ${Status[error.code]}: ${error.details}`);
      if (error.code === Status.INVALID_ARGUMENT) assert.match(error.details, field, `${what}: the error names the field`);
      else assert.match(what, /JoinTask|Lock/, `${what}: only task calls on a missing task may say NOT_FOUND`);
    }
    await expectUnchanged(before, "bad durations, enums and signals");
  });

  test("a message larger than the server's receive limit is RESOURCE_EXHAUSTED, and the daemon lives on", async () => {
    const before = await snapshot();
    const big = new Uint8Array(5 * 1024 * 1024);
    const stdin = await rpcError(pm().writeStdin({ name: "steady", data: big }, deadline(20_000)), "WriteStdin 5 MiB");
    assert.equal(stdin.code, Status.RESOURCE_EXHAUSTED, stdin.details);
    const text = `programs: {}\n# ${"x".repeat(5 * 1024 * 1024)}\n`;
    const apply = await rpcError(pm().applyConfig({ source: { case: "text", value: text } }, deadline(20_000)), "ApplyConfig 5 MiB");
    assert.equal(apply.code, Status.RESOURCE_EXHAUSTED, apply.details);
    await expectUnchanged(before, "oversized messages");
  });

  test("random bytes as the request of every method get an error status, never a crash or a hang", async () => {
    const before = await snapshot();
    const random = prng(0xc0ffee);
    const raw = rawSocketClient(daemon.socketPath);
    const failures: string[] = [];
    let sent = 0;
    try {
      for (const service of [ProcessManager, TaskRunner, ProcessMonitor] as DescService[]) {
        for (const method of service.methods) {
          const path = `/${service.typeName}/${method.name}`;
          for (const bytes of garbageFor(method, random, 20)) {
            const outcome = await rawCall(raw, path, method.methodKind, bytes);
            sent++;
            if (outcome === "hang" || outcome === Status.OK || ![Status.INTERNAL, Status.INVALID_ARGUMENT].includes(outcome)) {
              failures.push(`${path} <${bytes.toString("hex")}>: ${outcome === "hang" ? "no answer within 5 s" : Status[outcome]}`);
            }
          }
        }
      }
    } finally {
      raw.close();
    }
    assert.deepEqual(failures, [], `${failures.length} of ${sent} garbage calls were not refused`);
    assert.ok(sent >= 20 * 40, `sent ${sent} garbage requests`);
    await expectUnchanged(before, "garbage frames");
  });

  test("random bytes sent to gRPC health and reflection get an answer, and the daemon keeps serving", async () => {
    const before = await snapshot();
    const random = prng(0xbadf00d);
    const raw = rawSocketClient(daemon.socketPath);
    // Health/Check is unary: every frame, decodable by chance or not, must be answered (an unknown
    // service name is NOT_FOUND, undecodable bytes an error). Reflection is a bidirectional stream:
    // a garbage frame ends it with an error or gets a reply; either way it finishes once half-closed.
    const calls: [string, DescMethod["methodKind"], number][] = [
      ["/grpc.health.v1.Health/Check", "unary", 50],
      ["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "bidi_streaming", 20],
    ];
    const hung: string[] = [];
    const statuses = new Set<string>();
    try {
      for (const [path, kind, count] of calls) {
        for (let i = 0; i < count; i++) {
          const bytes = randomBytes(random);
          const outcome = await rawCall(raw, path, kind, bytes);
          if (outcome === "hang") hung.push(`${path} <${bytes.toString("hex")}>`);
          else statuses.add(Status[outcome]);
        }
      }
    } finally {
      raw.close();
    }
    assert.deepEqual(hung, [], "every garbage health/reflection call is answered within 5 s");
    assert.ok(
      [...statuses].some((s) => s !== "OK"),
      `some garbage was refused (statuses seen: ${[...statuses].join(", ")})`,
    );
    await expectUnchanged(before, "garbage to health and reflection");
  });

  test("a truncated or byte-flipped config given to ApplyConfig is rejected and no running program is touched", async () => {
    const before = await snapshot();
    const valid = JSON.stringify({ server: { allow_adhoc: true }, programs: { steady: sleeper, idle: { ...sleeper, autostart: false } } }, null, 1);
    const random = prng(7);
    const variants: string[] = [];
    // Every strict prefix of a JSON document is an unclosed flow collection: never valid.
    for (let i = 0; i < 40; i++) variants.push(valid.slice(0, 1 + Math.floor(random() * (valid.trimEnd().length - 2))));
    // Break the structure: a bracket, brace, quote, colon or comma becomes a byte that cannot stand there.
    const structural = [...valid].flatMap((c, i) => ('{}[]":,'.includes(c) ? [i] : []));
    // (Not a control character such as \u0001: inside a plain scalar it is a legal argument.)
    const breakers = ["\u0000", "{", "]"];
    for (let i = 0; i < 40; i++) {
      const at = structural[Math.floor(random() * structural.length)];
      const by = breakers.filter((b) => b !== valid[at])[Math.floor(random() * (breakers.length - 1))];
      variants.push(valid.slice(0, at) + by + valid.slice(at + 1));
    }
    const accepted: string[] = [];
    for (const text of variants) {
      try {
        await pm().applyConfig({ source: { case: "text", value: text } }, deadline());
        accepted.push(text);
      } catch (error) {
        assert.ok(error instanceof ClientError, String(error));
        assert.equal(error.code, Status.INVALID_ARGUMENT, `${JSON.stringify(text)}: ${Status[error.code]} ${error.details}`);
        assert.match(error.details, /invalid config, nothing was changed/);
      }
    }
    assert.deepEqual(accepted, [], "every damaged config is refused");
    await expectUnchanged(before, "damaged configs");
  });

  test("start, stop, restart, ApplyConfig, CreateProgram and DeleteProgram racing on one program from 5 clients (150 calls) never give two live runs or a lost run", async () => {
    const clients: CorralClient[] = Array.from({ length: 5 }, () => connect({ address: daemon.socketPath }));
    const random = prng(42);
    const configWith = (tag: string | undefined) =>
      JSON.stringify({
        server: { allow_adhoc: true },
        programs: { steady: sleeper, idle: { ...sleeper, autostart: false }, ...(tag ? { [racer]: stubborn(tag) } : {}) },
      });
    const operations: Array<[string, (c: CorralClient) => Promise<unknown>]> = [
      ["start", (c) => c.processManager.startProcess({ name: racer }, deadline(15_000))],
      ["stop", (c) => c.processManager.stopProcess({ name: racer }, deadline(15_000))],
      ["restart", (c) => c.processManager.restartProcess({ name: racer }, deadline(15_000))],
      ["apply a", (c) => c.processManager.applyConfig({ source: { case: "text", value: configWith("a") } }, deadline(15_000))],
      ["apply b", (c) => c.processManager.applyConfig({ source: { case: "text", value: configWith("b") } }, deadline(15_000))],
      ["apply without", (c) => c.processManager.applyConfig({ source: { case: "text", value: configWith(undefined) } }, deadline(15_000))],
      [
        "create",
        (c) =>
          c.processManager.createProgram(
            { spec: { name: racer, command: stubborn("adhoc").command, env: { TAG: "adhoc" }, stopTimeout: { seconds: 0n, nanos: 150_000_000 } }, start: true },
            deadline(15_000),
          ),
      ],
      ["delete", (c) => c.processManager.deleteProgram({ name: racer }, deadline(15_000))],
    ];
    // Refusals the race may legitimately produce; anything else (INTERNAL, UNKNOWN, a timeout) is a bug.
    const fine = new Set([Status.OK, Status.NOT_FOUND, Status.FAILED_PRECONDITION, Status.ALREADY_EXISTS, Status.ABORTED, Status.INVALID_ARGUMENT]);
    const unexpected: string[] = [];
    const doubles: string[] = [];
    let racing = true;
    const watcher = (async () => {
      while (racing) {
        const runs = liveRunsOf(racer);
        if (runs.size > 1) {
          // A run being SIGKILLed may linger for a moment; two runs that both persist are a bug.
          await sleep(150);
          const again = liveRunsOf(racer);
          const both = [...runs.keys()].filter((id) => again.has(id));
          if (both.length > 1) doubles.push(`runs ${both.join(", ")} alive together: ${JSON.stringify([...again])}`);
        }
        await sleep(30);
      }
    })();
    try {
      let next = 0;
      const total = 150;
      await Promise.all(
        clients.map(async (client) => {
          while (next < total) {
            next++;
            const [label, op] = operations[Math.floor(random() * operations.length)];
            try {
              await op(client);
            } catch (error) {
              const code = error instanceof ClientError ? error.code : undefined;
              if (code === undefined || !fine.has(code))
                unexpected.push(`${label}: ${error instanceof ClientError ? `${Status[error.code]} ${error.details}` : String(error)}`);
            }
          }
        }),
      );
    } finally {
      racing = false;
      await watcher;
    }
    assert.deepEqual(doubles, [], "never two live runs of one program");
    assert.deepEqual(unexpected, [], "every refusal is a clear one");

    // Settled: what lives is exactly what the daemon reports (no lost run).
    await waitUntil(
      async () => {
        const { processes } = await pm().listProcesses({}, deadline());
        const info = processes.find((p) => p.name === racer);
        return info === undefined || ![ProcessState.STARTING, ProcessState.STOPPING, ProcessState.BACKOFF].includes(info.state);
      },
      15_000,
      "the race to settle",
    );
    const { processes } = await pm().listProcesses({}, deadline());
    const info = processes.find((p) => p.name === racer);
    const live = liveRunsOf(racer);
    if (info?.state === ProcessState.RUNNING) {
      assert.deepEqual([...live.keys()], [String(info.run?.runId)], "the one live run is the one the daemon reports");
    } else {
      assert.deepEqual([...live.keys()], [], `the daemon reports ${racer} ${info ? ProcessState[info.state] : "deleted"}, so nothing of it may live`);
    }

    await pm().stopAll({}, deadline(20_000));
    await waitUntil(() => liveRunsOf(racer).size === 0, 5_000, "StopAll to leave nothing alive");
    const steady = (await pm().getProcess({ name: "steady" }, deadline())).process;
    assert.notEqual(steady?.state, ProcessState.RUNNING);
    for (const client of clients) client.close();
  });
});

/** A client that sends raw bytes to any method path of the daemon's socket. */
function rawSocketClient(socketPath: string): grpc.Client {
  const Generic = grpc.makeGenericClientConstructor({}, "Garbage");
  return new Generic(`unix://${socketPath}`, grpc.credentials.createInsecure());
}

/** 1 to 64 random bytes. */
function randomBytes(random: () => number): Buffer {
  const bytes = Buffer.alloc(1 + Math.floor(random() * 64));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** `count` byte strings the method's request type cannot decode (checked here with protobuf-es). */
function garbageFor(method: DescMethod, random: () => number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let attempt = 0; out.length < count && attempt < count * 200; attempt++) {
    const bytes = randomBytes(random);
    try {
      fromBinary(method.input, bytes);
    } catch {
      out.push(bytes);
    }
  }
  return out;
}

/** One call with raw bytes as the request; the status it ends with, or "hang" after 5 s. */
function rawCall(client: grpc.Client, path: string, kind: DescMethod["methodKind"], bytes: Buffer): Promise<Status | "hang"> {
  const identity = (b: Buffer) => b;
  const callDeadline = new Date(Date.now() + 5_000);
  const settle = (code: Status) => (code === Status.DEADLINE_EXCEEDED ? "hang" : code);
  return new Promise((resolve) => {
    if (kind === "unary") {
      client.makeUnaryRequest(path, identity, identity, bytes, { deadline: callDeadline }, (error) => resolve(settle((error?.code ?? Status.OK) as Status)));
      return;
    }
    if (kind === "client_streaming") {
      resolve(Status.INTERNAL); // no corral method streams from the client
      return;
    }
    const call =
      kind === "server_streaming"
        ? client.makeServerStreamRequest(path, identity, identity, bytes, { deadline: callDeadline })
        : client.makeBidiStreamRequest(path, identity, identity, { deadline: callDeadline });
    call.on("data", () => undefined);
    call.on("error", () => undefined);
    call.on("status", (status: grpc.StatusObject) => resolve(settle(status.code as Status)));
    if (kind === "bidi_streaming") {
      const duplex = call as grpc.ClientDuplexStream<Buffer, Buffer>;
      duplex.write(bytes);
      duplex.end();
    }
  });
}
