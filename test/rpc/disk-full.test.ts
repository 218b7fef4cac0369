// End-to-end specification of a full disk: the daemon's home on a 256 KiB tmpfs this test mounts.
// The daemon never crashes; a start that cannot reserve run ids fails with RESOURCE_EXHAUSTED
// naming the path and "disk full"; a failed state save keeps the previous state file; a log that
// cannot be rotated for want of room is rotated without a backup (an event says what was
// dropped); everything works again once space comes back.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LogGapReason, ProcessState, Status, StartWait, type Event } from "../../client/ts/index.js";
import { parseState } from "../../server/core/store/state-store.js";
import { journalEvents, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

/** Fills the filesystem of dir with a ballast file until the disk is full; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, "ballast");
  const fd = openSync(path, "a");
  const block = Buffer.alloc(4096, 0x61);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
  } finally {
    closeSync(fd);
  }
  return path;
}

const messages = (events: Event[]) => events.flatMap((e) => (e.detail.case === "server" ? [`${e.program}: ${e.detail.value.message}`] : []));

test("a full disk never takes the daemon down: starts fail with RESOURCE_EXHAUSTED, state and logs recover", async (t) => {
  const home = mkdtempSync(join(tmpdir(), "corral-diskfull-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", home]);
  let daemon: TestDaemon | undefined;
  t.after(async () => {
    await daemon?.stop();
    execFileSync("umount", [home]);
    rmdirSync(home);
  });
  daemon = await startTestDaemon({
    home,
    programs: {
      small: { command: ["/bin/sh", "-c", "echo hello; sleep 60"], autostart: false, startsecs: "100ms", startretries: 0, stop_timeout: "2s" },
      // Writes ~100 KB/s whatever happens to its writes; its log rotates at 90 KiB with 2 backups:
      // two copies fit in 256 KiB, so the file reaches the size again, but three never do.
      filler: {
        command: ["/bin/sh", "-c", "while :; do printf '%01000d\\n' 0 2>/dev/null; sleep 0.01; done"],
        autostart: false,
        startsecs: "100ms",
        stop_timeout: "2s",
        log: { max_bytes: "90KiB", backups: 2 },
      },
    },
  });
  const pm = daemon.client.processManager;
  const stateFile = join(home, "state", "state.json");

  // 1. Disk full before the first spawn: reserving run ids fails, and the start says so.
  let ballast = fillDisk(home);
  const refused = await rpcError(pm.startProcess({ name: "small", wait: StartWait.RUNNING }), "start on a full disk");
  assert.equal(refused.code, Status.RESOURCE_EXHAUSTED, refused.details);
  assert.match(refused.details, /start of small failed: small: reserving run ids in .*state\/run-id: disk full \(ENOSPC\)/);
  assert.equal((await pm.getServerInfo({})).version.length > 0, true, "the daemon answers");

  // 2. Space comes back: the same start works.
  rmSync(ballast);
  const started = await pm.startProcess({ name: "small", wait: StartWait.RUNNING });
  assert.equal(started.process?.state, ProcessState.RUNNING);
  await waitUntil(async () => (await pm.readLogs({ name: "small" })).chunk?.data.toString() === "hello\n", 5000, "small's output");
  await waitUntil(
    // RUNNING is the last save of the start: one still in flight when the disk fills would free
    // the old file's page by its rename and let the save under test succeed.
    () => existsSync(stateFile) && parseState(readFileSync(stateFile, "utf8")).programs.small?.state === "RUNNING",
    5000,
    "the state file to record small as running",
  );
  const savedBefore = readFileSync(stateFile, "utf8");

  // 3. Disk full again: the state save after a stop fails, the previous state file stays whole.
  ballast = fillDisk(home);
  const stopped = await pm.stopProcess({ name: "small" });
  assert.equal(stopped.process?.state, ProcessState.STOPPED);
  await waitUntil(
    async () =>
      messages(await journalEvents(daemon!)).some((m) => /saving state to .*state\.json failed: disk full \(ENOSPC\); the previous state file is kept/.test(m)),
    5000,
    "a state-save event",
  );
  assert.equal(readFileSync(stateFile, "utf8"), savedBefore, "the previous state file is untouched");
  assert.ok(!existsSync(`${stateFile}.tmp`), "the partial temp file was removed");
  rmSync(ballast);

  // 4. A log that outgrows the disk: no room to copy it, so it is rotated without a backup.
  await pm.startProcess({ name: "filler", wait: StartWait.RUNNING });
  await waitUntil(
    async () =>
      messages(await journalEvents(daemon!)).some((m) =>
        /^filler: rotating .*filler\.stdout\.log: disk full \(ENOSPC\) while copying it to a backup; rotated without a backup: dropped \d+ bytes/.test(m),
      ),
    20_000,
    "a rotation without a backup",
  );
  const read = await pm.readLogs({ name: "filler", offset: 0n, maxBytes: 2000 });
  assert.ok(read.firstOffset > 0n, "the dropped bytes are reported as a gap");
  assert.equal(read.chunk?.offset, read.firstOffset);
  const gaps = read.chunk?.gaps ?? [];
  assert.equal(gaps[0]?.fromOffset, 0n, "the gaps start where the read asked");
  assert.equal(gaps[gaps.length - 1]?.toOffset, read.firstOffset, "and end where the kept bytes begin");
  assert.ok(
    gaps.some((g) => g.reason === LogGapReason.DISK_FULL),
    "a gap says the disk was full",
  );
  await pm.stopProcess({ name: "filler" });

  // 5. Saving works again, and says so; the daemon is still the same process.
  await pm.startProcess({ name: "small", wait: StartWait.RUNNING });
  await waitUntil(
    async () => messages(await journalEvents(daemon!)).some((m) => /saving state to .*state\.json works again/.test(m)),
    5000,
    "saving works again",
  );
  assert.equal(daemon.child.exitCode, null, "the daemon never exited");
  await pm.stopProcess({ name: "small" });
});
