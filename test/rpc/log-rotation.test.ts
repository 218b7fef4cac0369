// End-to-end specification of lossless rotation (issue 13): real writers at full speed, a real
// daemon, every byte read back through ReadLogs at the offset it was written at, or reported in a
// gap; a daemon killed (failpoints) at each phase of a rotation loses nothing and keeps offsets true.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LogGapReason, LogStream, ProcessState, StartWait, type LogGap, type ProcessManagerClient } from "../../client/ts/index.js";
import { LINE_BYTES, lineOf, recordAt, RECORD_BYTES } from "../fixtures/log-writer.js";
import { journalEvents, repoRoot, serverMessages, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { inSharedHome } from "../helpers/shared-home.js";

const writer = join(repoRoot, "dist/test/fixtures/log-writer.js");
const KiB = 1024;

interface ReadBack {
  data: Buffer;
  first: number;
  end: number;
  gaps: LogGap[];
}

/** Reads a whole stream through ReadLogs from offset 0, chunk by chunk, as a client would. */
async function readAll(pm: ProcessManagerClient, name: string): Promise<ReadBack> {
  const parts: Buffer[] = [];
  const gaps: LogGap[] = [];
  let offset = 0n;
  let first = -1;
  for (;;) {
    const response = await pm.readLogs({ name, stream: LogStream.STDOUT, offset });
    const chunk = response.chunk!;
    if (first < 0) first = Number(chunk.offset);
    gaps.push(...chunk.gaps);
    assert.equal(chunk.offset, offset > response.firstOffset ? offset : response.firstOffset, "a read starts where asked, or at the first kept byte");
    parts.push(Buffer.from(chunk.data));
    offset = chunk.offset + BigInt(chunk.data.length);
    if (offset >= response.endOffset) return { data: Buffer.concat(parts), first, end: Number(response.endOffset), gaps };
  }
}

async function runToExit(daemon: TestDaemon, name: string, timeoutMs = 60_000): Promise<void> {
  const pm = daemon.client.processManager;
  await waitUntil(async () => (await pm.getProcess({ name })).process?.state === ProcessState.EXITED, timeoutMs, `${name} to exit`);
}

const writerProgram = (args: string[], log: Record<string, unknown>) => ({
  command: [process.execPath, writer, ...args],
  autostart: false,
  autorestart: "never",
  startsecs: "0s",
  log,
});

/** The backups on disk, oldest first (named by the logical offset of their first byte). */
function backupsOf(home: string, name: string): { path: string; start: number; size: number }[] {
  const dir = join(home, "logs");
  const prefix = `${name}.stdout.log.`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && /^\d{20}$/.test(f.slice(prefix.length)))
    .sort()
    .map((f) => ({ path: join(dir, f), start: Number(f.slice(prefix.length)), size: statSync(join(dir, f)).size }));
}

const expectedLines = (count: number) => Buffer.from(Array.from({ length: count }, (_, i) => lineOf(i)).join(""));

test("a firehose of 60,000 flushed lines rotated at 64 KiB: every line once, in order, across every backup and the current file", async () => {
  const daemon = await startTestDaemon({ programs: { firehose: writerProgram(["lines", "60000"], { max_bytes: "64KiB", backups: 100 }) } });
  try {
    const pm = daemon.client.processManager;
    await pm.startProcess({ name: "firehose", wait: StartWait.RUNNING });
    await runToExit(daemon, "firehose");
    const expected = expectedLines(60_000);
    const read = await readAll(pm, "firehose");
    assert.equal(read.end, 60_000 * LINE_BYTES, "the logical size is every byte written");
    assert.equal(read.first, 0, "100 backups of 64 KiB hold all 2.1 MB");
    assert.deepEqual(read.gaps, []);
    assert.ok(read.data.equals(expected), "every line once, in order, at its offset");
    // The same bytes, file by file: backups in offset order, then the current file.
    const currentPath = join(daemon.home, "logs", "firehose.stdout.log");
    await waitUntil(() => statSync(currentPath).size < 64 * KiB, 10_000, "the rotation after the exit");
    const backups = backupsOf(daemon.home, "firehose");
    let offset = 0;
    for (const backup of backups) {
      assert.equal(backup.start, offset, `${backup.path} starts where the previous one ended`);
      assert.ok(backup.size <= 64 * KiB, `${backup.path}: ${backup.size} bytes, at most max_bytes`);
      assert.ok(readFileSync(backup.path).equals(expected.subarray(offset, offset + backup.size)), `${backup.path} holds its offsets' bytes`);
      offset += backup.size;
    }
    const current = readFileSync(currentPath);
    assert.ok(current.equals(expected.subarray(offset)), "the current file holds the rest");
  } finally {
    await daemon.stop();
  }
});

test("a writer at full speed: the logs' byte count is what it wrote, kept bytes are at their offsets, the rest is a reported gap", async () => {
  const total = 96 * 1024 * KiB;
  const daemon = await startTestDaemon({ programs: { big: writerProgram(["records", String(total)], { max_bytes: "1MiB", backups: 4 }) } });
  try {
    const pm = daemon.client.processManager;
    await pm.startProcess({ name: "big", wait: StartWait.RUNNING });
    await runToExit(daemon, "big", 120_000);
    await waitUntil(async () => (await pm.readLogs({ name: "big", offset: 0n, maxBytes: 1 })).firstOffset > 0n, 10_000, "the last rotation");
    const read = await readAll(pm, "big");
    assert.equal(read.end, total, "every byte written is counted");
    assert.ok(read.first > 0 && read.first < total, `rotated beyond 4 backups (first kept: ${read.first})`);
    assert.deepEqual(
      read.gaps.map((g) => [Number(g.fromOffset), Number(g.toOffset), g.reason]),
      [[0, read.first, LogGapReason.BACKUPS]],
      "what is not kept is one gap from 0, rotated out",
    );
    // Every kept record says its own offset.
    for (let at = Math.ceil(read.first / RECORD_BYTES) * RECORD_BYTES; at < total; at += RECORD_BYTES) {
      const i = at - read.first;
      if (read.data.toString("latin1", i, i + RECORD_BYTES) !== recordAt(at)) assert.fail(`offset ${at}: ${JSON.stringify(read.data.toString("latin1", i, i + RECORD_BYTES))}`);
    }
    for (const backup of backupsOf(daemon.home, "big")) assert.ok(backup.size <= 1024 * KiB, `${backup.path}: ${backup.size} bytes`);
    assert.ok(backupsOf(daemon.home, "big").length <= 4, "at most 4 backups");
  } finally {
    await daemon.stop();
  }
});

test("100 programs writing as fast as they can: each stream complete, in order, at its offsets", { timeout: 300_000 }, async () => {
  const count = 100;
  const lines = 20_000;
  const programs = Object.fromEntries(Array.from({ length: count }, (_, i) => [`w${i}`, writerProgram(["lines", String(lines)], { max_bytes: "64KiB", backups: 100 })]));
  const daemon = await startTestDaemon({ programs });
  try {
    const pm = daemon.client.processManager;
    await pm.startAll({ wait: StartWait.RUNNING });
    await waitUntil(async () => (await pm.listProcesses({})).processes.every((p) => p.state === ProcessState.EXITED), 240_000, "every writer to exit");
    const expected = expectedLines(lines);
    for (let i = 0; i < count; i++) {
      const read = await readAll(pm, `w${i}`);
      assert.equal(read.end, expected.length, `w${i}: every byte counted`);
      assert.ok(read.data.equals(expected), `w${i}: every line once, in order`);
    }
    const rotations = Array.from({ length: count }, (_, i) => backupsOf(daemon.home, `w${i}`).length).reduce((a, b) => a + b, 0);
    assert.ok(rotations >= count, `rotations happened (${rotations} backups)`);
  } finally {
    await daemon.stop();
  }
});

for (const phase of ["copied", "marked", "cut", "committed"]) {
  test(`kill -9 of the daemon in a rotation (${phase}): the next daemon finishes or undoes it; nothing lost, offsets true`, async () => {
    await inSharedHome(async ({ home, owned, start }) => {
      const programs = { firehose: writerProgram(["lines", "60000"], { max_bytes: "64KiB", backups: 100 }) };
      const first = await start({ programs, env: { CORRAL_FAILPOINTS: `log-rotation-${phase}` } });
      // The reply may not make it: the daemon can die first (the writer then ends on its own).
      const started = await first.client.processManager.startProcess({ name: "firehose", wait: StartWait.RUNNING }).catch(() => undefined);
      if (started?.process) owned.add([started.process]);
      assert.equal((await first.exited).signal, "SIGKILL", "the failpoint killed the daemon inside the rotation");
      await first.stop();
      const meta = JSON.parse(readFileSync(join(home, "logs", ".firehose.stdout.meta.json"), "utf8")) as { rotation?: { phase: string } };
      assert.ok(meta.rotation, "the crash left a rotation under way");

      const second = await start({ programs });
      const pm = second.client.processManager;
      await runToExit(second, "firehose");
      const read = await readAll(pm, "firehose");
      assert.equal(read.end, 60_000 * LINE_BYTES, "offsets count every byte, no more, no less");
      assert.ok(read.data.equals(expectedLines(60_000)), "every line once, in order");
      const recovered = serverMessages(await journalEvents(second)).filter((m) => m.includes("a previous daemon left"));
      assert.equal(recovered.length, 1, `one recovery said: ${recovered.join("; ")}`);
      // Before the cut the rotation is undone (the marker is still at the head); after it, finished.
      assert.match(recovered[0], phase === "copied" || phase === "marked" ? /was undone/ : /was finished/);
    });
  });
}
