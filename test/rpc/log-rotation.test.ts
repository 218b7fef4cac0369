// End-to-end specification of lossless rotation (issue 13): real writers at full speed, a real
// daemon, every byte read back through ReadLogs at the offset it was written at, or reported in a
// gap (the crash cases are in log-rotation-crash.test.ts).
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LogGapReason, StartWait } from "../../client/ts/index.js";
import { LINE_BYTES, recordAt, RECORD_BYTES } from "../fixtures/log-writer.js";
import { startTestDaemon, waitUntil } from "../helpers/daemon.js";
import { backupsOf, expectedLines, KiB, readAll, runToExit, writerProgram } from "../helpers/logs.js";

test("a firehose of 60,000 flushed lines rotated at 64 KiB: every line once, in order, across every backup and the current file", async () => {
  const daemon = await startTestDaemon({
    readyTimeoutMs: 60_000,
    programs: { firehose: writerProgram(["lines", "60000"], { max_bytes: "64KiB", backups: 100 }) },
  });
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

test("a 1 GiB writer at full speed: the logs' byte count is what it wrote, kept bytes are at their offsets, the rest is a reported gap", async () => {
  const total = 1024 * 1024 * KiB;
  const daemon = await startTestDaemon({
    readyTimeoutMs: 60_000,
    programs: { big: writerProgram(["records", String(total)], { max_bytes: "1MiB", backups: 4 }) },
  });
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
      if (read.data.toString("latin1", i, i + RECORD_BYTES) !== recordAt(at))
        assert.fail(`offset ${at}: ${JSON.stringify(read.data.toString("latin1", i, i + RECORD_BYTES))}`);
    }
    for (const backup of backupsOf(daemon.home, "big")) assert.ok(backup.size <= 1024 * KiB, `${backup.path}: ${backup.size} bytes`);
    assert.ok(backupsOf(daemon.home, "big").length <= 4, "at most 4 backups");
  } finally {
    await daemon.stop();
  }
});
