// End-to-end specification of the ProcessManager gRPC service: a real daemon, the real client,
// real processes; assertions on what a client sees.
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { LogStream, ProcessState, Status, type Event, type StartWait } from "../../client/ts/index.js";
import { isAlive, repoRoot, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const NODE = process.execPath;

describe("ProcessManager over gRPC", () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await startTestDaemon({
      programs: {
        sleeper: {
          command: ["sh", "-c", "echo hi; sleep 30"],
          autostart: false,
          startsecs: "200ms",
          stop_timeout: "2s",
          labels: { tier: "back" },
        },
        pinger: {
          // Prints a line on each SIGUSR2, so the test decides when output is written.
          command: [
            NODE,
            "-e",
            "process.on('SIGUSR2', () => console.log('ping ' + Date.now())); console.log('ready ' + process.pid); setInterval(() => {}, 1000);",
          ],
          autostart: false,
          startsecs: "100ms",
          stop_timeout: "2s",
          labels: { tier: "front" },
        },
        watched: { command: ["sleep", "30"], autostart: false, startsecs: "100ms", stop_timeout: "2s" },
      },
    });
  });

  after(async () => {
    await daemon?.stop();
  });

  const pm = () => daemon.client.processManager;

  test("GetServerInfo describes the daemon", async () => {
    const pkg = JSON.parse(await readFile(`${repoRoot}/package.json`, "utf8")) as { version: string };
    const info = await pm().getServerInfo({});
    assert.equal(info.version, pkg.version);
    assert.equal(info.pid, daemon.pid);
    assert.equal(info.home, daemon.home);
    assert.equal(info.configPath, `${daemon.home}/corral.yaml`);
    assert.deepEqual(info.listen, [`unix:${daemon.socketPath}`]);
    assert.equal(info.programs, 3);
    assert.ok(info.lastEventSeq >= 1n, "the daemon's start is journaled");
    assert.ok(info.startedAt && Number(info.startedAt.seconds) * 1000 <= Date.now());
  });

  test("ListProcesses lists programs in config order and filters by labels; GetProcess returns one", async () => {
    const all = await pm().listProcesses({});
    assert.deepEqual(
      all.processes.map((p) => p.name),
      ["sleeper", "pinger", "watched"],
    );
    const front = await pm().listProcesses({ selector: { matchLabels: { tier: "front" } } });
    assert.deepEqual(
      front.processes.map((p) => p.name),
      ["pinger"],
    );
    const { process } = await pm().getProcess({ name: "sleeper" });
    assert.equal(process?.name, "sleeper");
    assert.equal(process?.state, ProcessState.STOPPED);
    assert.deepEqual(process?.spec?.command, ["sh", "-c", "echo hi; sleep 30"]);
    assert.equal(process?.spec?.startsecs?.nanos, 200_000_000);
    assert.deepEqual(process?.labels, { tier: "back" });
  });

  test("an unknown program is NOT_FOUND", async () => {
    const error = await rpcError(pm().getProcess({ name: "no-such-program" }));
    assert.equal(error.code, Status.NOT_FOUND);
    assert.match(error.details, /no-such-program/);
    const startError = await rpcError(pm().startProcess({ name: "no-such-program" }));
    assert.equal(startError.code, Status.NOT_FOUND);
  });

  test("an empty name is INVALID_ARGUMENT naming the field", async () => {
    const error = await rpcError(pm().getProcess({ name: "" }));
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    assert.match(error.details, /\bname\b/);
    const waitError = await rpcError(pm().startProcess({ name: "sleeper", wait: 42 as StartWait }));
    assert.equal(waitError.code, Status.INVALID_ARGUMENT);
    assert.match(waitError.details, /\bwait\b/);
    const timeoutError = await rpcError(pm().startProcess({ name: "sleeper", timeout: { seconds: -1n } }));
    assert.equal(timeoutError.code, Status.INVALID_ARGUMENT);
    assert.match(timeoutError.details, /\btimeout\b/);
  });

  test("StartProcess waits for RUNNING, StopProcess for STOPPED and the process is gone", async () => {
    const started = await pm().startProcess({ name: "sleeper" });
    assert.equal(started.process?.state, ProcessState.RUNNING);
    const pid = started.process?.run?.pid ?? 0;
    assert.ok(pid > 0 && isAlive(pid), `run pid ${pid} is alive`);
    assert.ok((started.process?.run?.runId ?? 0n) > 0n);

    const stopped = await pm().stopProcess({ name: "sleeper" });
    assert.equal(stopped.process?.state, ProcessState.STOPPED);
    assert.deepEqual(stopped.survivors, []);
    assert.equal(stopped.process?.run?.pid, pid, "the last run is still reported");
    assert.ok(!isAlive(pid), `pid ${pid} is gone`);
  });

  test("starting a running program is FAILED_PRECONDITION", async () => {
    await pm().startProcess({ name: "sleeper" });
    try {
      const error = await rpcError(pm().startProcess({ name: "sleeper" }));
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      assert.match(error.details, /sleeper/);
    } finally {
      await pm().stopProcess({ name: "sleeper" });
    }
  });

  test("FollowLogs streams a line written after subscribing and ends when the client aborts", async () => {
    const pid = (await pm().startProcess({ name: "pinger" })).process?.run?.pid;
    // A SIGUSR2 before the handler is installed would kill the pinger: wait for its "ready".
    await waitUntil(
      async () =>
        Buffer.from((await pm().readLogs({ name: "pinger", tailLines: 50 })).chunk?.data ?? new Uint8Array())
          .toString("utf8")
          .includes(`ready ${pid}\n`),
      10_000,
      "the pinger's handler to be installed",
    );
    const abort = new AbortController();
    let text = "";
    const reading = (async () => {
      for await (const { chunk } of pm().followLogs({ name: "pinger", stream: LogStream.STDOUT }, { signal: abort.signal })) {
        assert.equal(chunk?.stream, LogStream.STDOUT);
        text += Buffer.from(chunk?.data ?? new Uint8Array()).toString("utf8");
      }
    })();
    let readError: unknown;
    reading.catch((error: unknown) => (readError = error));
    try {
      // The subscription is live only once the server has the call: signal until a line arrives.
      await waitUntil(
        async () => {
          if (readError) throw readError;
          if (text.includes("ping ")) return true;
          await pm().signalProcess({ name: "pinger", signal: "SIGUSR2" });
          return false;
        },
        10_000,
        "a ping line in FollowLogs",
      );
      abort.abort();
      await assert.rejects(reading, (error: unknown) => error instanceof Error && error.name === "AbortError");
      // The daemon is unharmed by the cancel and still serves calls.
      assert.equal((await pm().getProcess({ name: "pinger" })).process?.state, ProcessState.RUNNING);
    } finally {
      abort.abort();
      await pm().stopProcess({ name: "pinger" });
    }
  });

  test("WatchEvents after seq N replays later events in order, a start before its exit", async () => {
    const { lastEventSeq } = await pm().getServerInfo({});
    const started = await pm().startProcess({ name: "watched" });
    await pm().stopProcess({ name: "watched" });
    const runId = started.process?.run?.runId;

    const abort = new AbortController();
    const events: Event[] = [];
    try {
      for await (const item of pm().watchEvents({ afterSeq: lastEventSeq, programs: ["watched"] }, { signal: abort.signal })) {
        assert.equal(item.kind.case, "event", "no gap: the journal still holds these events");
        if (item.kind.case !== "event") continue;
        events.push(item.kind.value);
        if (item.kind.value.detail.case === "stateChanged" && item.kind.value.detail.value.to === ProcessState.STOPPED) abort.abort();
      }
    } catch (error) {
      if (!(error instanceof Error && error.name === "AbortError")) throw error;
    }

    assert.ok(events.every((e) => e.seq > lastEventSeq && e.program === "watched"));
    assert.deepEqual(
      events.map((e) => e.seq),
      [...events.map((e) => e.seq)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      "in seq order",
    );
    const kinds = events.map((e) => e.detail.case);
    const startedAt = kinds.indexOf("processStarted");
    const exitedAt = kinds.indexOf("processExited");
    assert.ok(startedAt >= 0 && exitedAt > startedAt, `ProcessStarted before ProcessExited: ${kinds.join(", ")}`);
    assert.equal(events[startedAt].runId, runId);
    assert.equal(events[exitedAt].runId, runId);
    const states = events.flatMap((e) => (e.detail.case === "stateChanged" ? [ProcessState[e.detail.value.to]] : []));
    assert.deepEqual(states, ["STARTING", "RUNNING", "STOPPING", "STOPPED"]);
  });

  test("the socket file is mode 0600", async () => {
    const info = await stat(daemon.socketPath);
    assert.ok(info.isSocket());
    assert.equal(info.mode & 0o777, 0o600);
  });
});
