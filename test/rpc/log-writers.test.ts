// End-to-end specification of many fast writers at once (issue 13): 100 programs writing flushed
// lines as fast as they can, each rotated at 64 KiB; every stream read back whole and in order,
// and every backup within max_bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProcessState, StartWait } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil } from "../helpers/daemon.js";
import { backupsOf, expectedLines, readAll, writerProgram } from "../helpers/logs.js";

test("100 programs writing as fast as they can: each stream complete, in order, at its offsets", { timeout: 300_000 }, async () => {
  const count = 100;
  const lines = 5_000;
  const programs = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`w${i}`, writerProgram(["lines", String(lines)], { max_bytes: "64KiB", backups: 100 })]),
  );
  const daemon = await startTestDaemon({ programs, readyTimeoutMs: 60_000 });
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
    const backups = Array.from({ length: count }, (_, i) => backupsOf(daemon.home, `w${i}`)).flat();
    assert.ok(backups.length >= count, `rotations happened (${backups.length} backups)`);
    // Each backup at most max_bytes, however far the writer was ahead of the rotation (a copy of
    // the whole file at rotation time made backups of 157-814 KB against 64 KiB).
    for (const backup of backups) assert.ok(backup.size <= 64 * 1024, `${backup.path}: ${backup.size} bytes, over max_bytes (64 KiB)`);
  } finally {
    await daemon.stop();
  }
});
