// Specification of gaffer's process options through the TS client against real daemons:
// redirect_output labels stdout and stderr in what is read and followed; custom_streams give the
// child extra fds (3, 4, ..., named by CORRAL_STREAM_<NAME>) whose output is logged, rotated
// losslessly and followed like stdout; detach leaves a run running through the daemon's
// shutdown, for the next daemon to adopt and stop.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LogStream, ProcessState, ShutdownHow, StartWait, Status, type LogChunk, type ProcessManagerClient } from "../../client/ts/index.js";
import { lineOf, LINE_BYTES } from "../fixtures/log-writer.js";
import { isAlive, repoRoot, rpcError, startTestDaemon, waitUntil } from "../helpers/daemon.js";
import { KiB, runToExit } from "../helpers/logs.js";
import { inSharedHome, waitForStates } from "../helpers/shared-home.js";

const writer = join(repoRoot, "dist/test/fixtures/log-writer.js");

/** Says where its streams are, then writes one numbered line to each, then "p N" to progress every 50 ms. */
const STREAMS_SCRIPT = [
  'echo "progress=$CORRAL_STREAM_PROGRESS metrics=$CORRAL_STREAM_METRICS"',
  "echo oops >&2",
  "echo cpu=1 >&4",
  'i=0; while :; do i=$((i+1)); echo "p $i" >&3; sleep 0.05; done',
].join("; ");

const text = (chunk: LogChunk | undefined) => Buffer.from(chunk?.data ?? new Uint8Array()).toString("utf8");

/** Every chunk of a follow until `done` holds of what came so far (then the follow is cancelled). */
async function followUntil(
  pm: ProcessManagerClient,
  request: Parameters<ProcessManagerClient["followLogs"]>[0],
  done: (chunks: LogChunk[]) => boolean,
): Promise<LogChunk[]> {
  const abort = new AbortController();
  const chunks: LogChunk[] = [];
  const timer = setTimeout(() => abort.abort(), 30_000);
  try {
    for await (const { chunk } of pm.followLogs(request, { signal: abort.signal })) {
      if (chunk) chunks.push(chunk);
      if (done(chunks)) break;
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    assert.fail(`the follow did not see what it waited for in 30 s; it saw ${JSON.stringify(chunks.map((c) => [c.streamName, text(c)]))}`);
  } finally {
    clearTimeout(timer);
  }
  return chunks;
}

test("redirect_output labels stdout and stderr, custom_streams are fds 3 and 4, each read and followed by name", async () => {
  const daemon = await startTestDaemon({
    programs: {
      gaffer: {
        command: ["/bin/sh", "-c", STREAMS_SCRIPT],
        autostart: false,
        startsecs: "0s",
        redirect_output: ["out", "err"],
        custom_streams: ["progress", "metrics"],
      },
    },
  });
  const pm = daemon.client.processManager;
  try {
    await pm.startProcess({ name: "gaffer", wait: StartWait.RUNNING });
    await waitUntil(async () => text((await pm.readLogs({ name: "gaffer", streamName: "progress" })).chunk).includes("p 3\n"), 30_000, "three progress lines");

    const out = (await pm.readLogs({ name: "gaffer", streamName: "out" })).chunk;
    assert.equal(text(out), "progress=3 metrics=4\n", "the child is told its fds");
    assert.equal(out?.stream, LogStream.STDOUT);
    assert.equal(out?.streamName, "out", "stdout's chunks carry its label");
    const byKind = (await pm.readLogs({ name: "gaffer", stream: LogStream.STDERR })).chunk;
    assert.deepEqual([text(byKind), byKind?.streamName], ["oops\n", "err"], "by kind: the label too");
    const metrics = (await pm.readLogs({ name: "gaffer", streamName: "metrics" })).chunk;
    assert.deepEqual([text(metrics), metrics?.stream, metrics?.streamName], ["cpu=1\n", LogStream.CUSTOM, "metrics"]);
    const progress = (await pm.readLogs({ name: "gaffer", streamName: "progress", offset: 0n })).chunk;
    assert.equal(progress?.stream, LogStream.CUSTOM);
    assert.match(text(progress), /^p 1\np 2\np 3\n/, "fd 3's output, from its first byte");

    // Following by name: new progress lines, each chunk named; the merged follow of two streams says which is which.
    const followed = await followUntil(pm, { name: "gaffer", streamNames: ["progress"] }, (chunks) => chunks.map(text).join("").split("\n").length > 3);
    assert.ok(followed.every((c) => c.stream === LogStream.CUSTOM && c.streamName === "progress"));
    assert.match(followed.map(text).join(""), /^p \d+\n/);
    const merged = await followUntil(pm, { name: "gaffer", streamNames: ["progress", "err"], tailLines: 1 }, (chunks) =>
      ["progress", "err"].every((name) => chunks.some((c) => c.streamName === name)),
    );
    assert.deepEqual(text(merged.find((c) => c.streamName === "err")), "oops\n");
    // Without names, a follow is stdout and stderr, as before: custom streams are asked for by name.
    const plain = await followUntil(pm, { name: "gaffer", tailLines: 5 }, (chunks) => chunks.length >= 2);
    assert.deepEqual(plain.map((c) => c.streamName).sort(), ["err", "out"]);

    const unknown = await rpcError(pm.readLogs({ name: "gaffer", streamName: "nope" }), "an unknown stream");
    assert.equal(unknown.code, Status.INVALID_ARGUMENT);
    assert.match(unknown.details, /stream_name="nope": is not a stream of gaffer; its streams are out \(stdout\), err \(stderr\), progress, metrics/);
    const clash = await rpcError(pm.readLogs({ name: "gaffer", stream: LogStream.STDERR, streamName: "progress" }), "kind and name disagree");
    assert.match(clash.details, /names progress, but stream asks for stderr/);
    const noName = await rpcError(pm.readLogs({ name: "gaffer", stream: LogStream.CUSTOM }), "CUSTOM without a name");
    assert.match(noName.details, /stream_name.*LOG_STREAM_CUSTOM needs the custom stream's name/);
    const offsetTwo = await rpcError(
      collect(pm.followLogs({ name: "gaffer", streamNames: ["progress", "metrics"], offset: 0n })),
      "an offset with two streams",
    );
    assert.match(offsetTwo.details, /offset.*needs a single stream/);
  } finally {
    await pm.stopProcess({ name: "gaffer" });
    await daemon.stop();
  }
});

async function collect(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) break;
}

test("a custom stream at full speed, rotated at 64 KiB: every byte counted, the kept ones at their offsets, the dropped ones reported", async () => {
  const lines = 20_000; // 700,000 bytes
  const daemon = await startTestDaemon({
    programs: {
      fast: {
        command: [process.execPath, writer, "lines", String(lines), "CORRAL_STREAM_PROGRESS"],
        autostart: false,
        autorestart: "never",
        startsecs: "0s",
        custom_streams: ["progress"],
        log: { max_bytes: "64KiB", backups: 3 },
      },
    },
  });
  const pm = daemon.client.processManager;
  try {
    await pm.startProcess({ name: "fast", wait: StartWait.RUNNING });
    await runToExit(daemon, "fast");
    const total = lines * LINE_BYTES;
    const expected = Buffer.from(Array.from({ length: lines }, (_, i) => lineOf(i)).join(""));
    await waitUntil(
      async () => {
        const { firstOffset, endOffset } = await pm.readLogs({ name: "fast", streamName: "progress", maxBytes: 1 });
        return endOffset === BigInt(total) && Number(endOffset - firstOffset) <= 4 * 64 * KiB;
      },
      20_000,
      "the last rotation of the custom stream",
    );
    const parts: Buffer[] = [];
    let offset = 0n;
    let first = -1n;
    const gaps: string[] = [];
    for (;;) {
      const { chunk, endOffset } = await pm.readLogs({ name: "fast", streamName: "progress", offset });
      if (first < 0n) first = chunk?.offset ?? 0n;
      for (const gap of chunk?.gaps ?? []) gaps.push(`${gap.streamName} ${gap.fromOffset}-${gap.toOffset}`);
      parts.push(Buffer.from(chunk?.data ?? new Uint8Array()));
      offset = (chunk?.offset ?? 0n) + BigInt(chunk?.data.length ?? 0);
      if (offset >= endOffset) break;
    }
    assert.ok(first > 0n, "rotated beyond 3 backups");
    assert.deepEqual(gaps, [`progress 0-${first}`], "what was dropped is said, under the stream's name");
    assert.ok(Buffer.concat(parts).equals(expected.subarray(Number(first))), "every kept byte at its logical offset");
    const stdout = await pm.readLogs({ name: "fast", stream: LogStream.STDOUT });
    assert.equal(stdout.endOffset, 0n, "nothing of it went to stdout");
  } finally {
    await daemon.stop();
  }
});

test("detach: the daemon's shutdown leaves the run running; the next daemon adopts it, keeps its custom stream's output, and stops it", async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = {
      kept: {
        command: ["/bin/sh", "-c", 'i=0; while :; do i=$((i+1)); echo "p $i" >&3; sleep 0.05; done'],
        startsecs: "0s",
        detach: true,
        custom_streams: ["progress"],
      },
      plain: { command: ["sleep", "1000"], startsecs: "0s" },
    };
    const first = await start({ programs });
    const before = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "both RUNNING");
    owned.add(before.values());
    const keptPid = before.get("kept")?.run?.pid ?? 0;
    const plainPid = before.get("plain")?.run?.pid ?? 0;
    const firstRunId = before.get("kept")?.run?.runId;

    assert.equal((await first.stop()).code, 0, "an orderly shutdown");
    assert.ok(isAlive(keptPid), "the detached run outlives the daemon's shutdown");
    assert.ok(!isAlive(plainPid), "the other program was stopped by it");
    const logFile = join(first.home, "logs", "kept.progress.log");
    const sizeAtShutdown = statSync(logFile).size;
    await waitUntil(() => statSync(logFile).size > sizeAtShutdown, 10_000, "the detached run to write while no daemon runs");

    const second = await start({ programs });
    const after = await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "both RUNNING again");
    owned.add(after.values());
    assert.equal(after.get("kept")?.run?.pid, keptPid, "adopted: the same process");
    assert.equal(after.get("kept")?.run?.runId, firstRunId, "adopted: the same run");
    assert.notEqual(after.get("plain")?.run?.pid, plainPid, "the stopped one was started anew (autostart)");
    // Every line it wrote, through both daemons and the time between: 1, 2, 3... once each.
    const read = await second.client.processManager.readLogs({ name: "kept", streamName: "progress", offset: 0n });
    const got = text(read.chunk).trimEnd().split("\n");
    assert.deepEqual(
      got,
      got.map((_, i) => `p ${i + 1}`),
      "the custom stream lost nothing across the shutdown",
    );

    const stopped = await second.client.processManager.stopProcess({ name: "kept" });
    assert.equal(stopped.shutdown?.wasRunning, true);
    assert.equal(stopped.shutdown?.pid, keptPid);
    assert.equal(stopped.shutdown?.how, ShutdownHow.SOFT);
    assert.ok(!isAlive(keptPid), "an explicit stop stops a detached program");
  });
});

test("CreateProgram takes redirect_output, custom_streams and detach, and the spec it returns has them", async () => {
  const daemon = await startTestDaemon({ configYaml: JSON.stringify({ server: { allow_adhoc: true }, programs: {} }) });
  const pm = daemon.client.processManager;
  try {
    const { process: created } = await pm.createProgram({
      spec: {
        name: "adhoc",
        command: ["/bin/sh", "-c", "echo up; echo 42% >&3; sleep 1000"],
        startsecs: { seconds: 0n, nanos: 0 },
        redirectOutput: ["main"],
        customStreams: ["progress"],
        detach: true,
      },
      start: true,
    });
    assert.deepEqual([created?.spec?.redirectOutput, created?.spec?.customStreams, created?.spec?.detach], [["main"], ["progress"], true]);
    await waitUntil(
      async () => text((await pm.readLogs({ name: "adhoc", streamName: "progress" })).chunk) === "42%\n",
      30_000,
      "the ad-hoc program's progress",
    );
    const main = (await pm.readLogs({ name: "adhoc", streamName: "main" })).chunk;
    assert.deepEqual([text(main), main?.streamName], ["up\n", "main"]);
    const refused = await rpcError(pm.createProgram({ spec: { name: "bad", command: ["true"], customStreams: ["stderr"] } }), "a reserved name");
    assert.equal(refused.code, Status.INVALID_ARGUMENT);
    assert.match(refused.details, /custom_streams.*stderr is a standard stream's name/);
  } finally {
    await pm.stopProcess({ name: "adhoc" });
    await daemon.stop();
  }
});

test("ApplyConfig: a new label applies at once to the running program; a new custom stream restarts it with one more fd", async () => {
  const program = (extra: Record<string, unknown>) => ({
    command: ["/bin/sh", "-c", 'echo "fd3=$CORRAL_STREAM_PROGRESS"; sleep 1000'],
    startsecs: "0s",
    ...extra,
  });
  const config = (extra: Record<string, unknown>) => JSON.stringify({ programs: { live: program(extra) } });
  const daemon = await startTestDaemon({ configYaml: config({ redirect_output: ["before"] }) });
  const pm = daemon.client.processManager;
  try {
    await waitUntil(async () => (await pm.getProcess({ name: "live" })).process?.state === ProcessState.RUNNING, 30_000, "live RUNNING");
    const pid = (await pm.getProcess({ name: "live" })).process?.run?.pid;

    const relabelled = await pm.applyConfig({ source: { case: "text", value: config({ redirect_output: ["after"] }) } });
    assert.deepEqual(
      relabelled.diff?.changes.map((c) => [c.name, c.fields, c.needsRestart]),
      [["live", ["redirect_output"], false]],
    );
    assert.deepEqual(relabelled.diff?.restarted, []);
    const read = (await pm.readLogs({ name: "live", streamName: "after" })).chunk;
    assert.deepEqual([text(read), read?.streamName], ["fd3=\n", "after"], "the old run's output, under the new label");
    assert.equal((await pm.getProcess({ name: "live" })).process?.run?.pid, pid, "not restarted");
    assert.equal((await rpcError(pm.readLogs({ name: "live", streamName: "before" }))).code, Status.INVALID_ARGUMENT);

    const streamed = await pm.applyConfig({ source: { case: "text", value: config({ redirect_output: ["after"], custom_streams: ["progress"] }) } });
    assert.deepEqual(
      streamed.diff?.changes.map((c) => [c.name, c.fields, c.needsRestart]),
      [["live", ["custom_streams"], true]],
    );
    assert.deepEqual(streamed.diff?.restarted, ["live"]);
    await waitUntil(async () => text((await pm.readLogs({ name: "live", streamName: "after" })).chunk).includes("fd3=3\n"), 30_000, "the new run told its fd");
    assert.notEqual((await pm.getProcess({ name: "live" })).process?.run?.pid, pid, "a new run");
  } finally {
    await pm.stopProcess({ name: "live" });
    await daemon.stop();
  }
});
