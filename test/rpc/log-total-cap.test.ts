// End-to-end specification of server.logs.max_total under many fast writers (issue 13): the logs
// settle under the cap (plus one block per stream), every byte a program wrote is either read at
// its offset or inside a gap that says why (MAX_TOTAL for the cap's drops), and while they write
// the files the daemon makes stay within the slack the README states ("Logs", "How much disk"):
// at every sample, backups and rotation copies take at most the cap plus two backups' worth per
// stream (one copy in flight, one backup made after the drops were planned) plus a block per
// stream; no rotation has more than one copy in flight; no backup exceeds max_bytes. The writers
// write 12x the cap in all, so the bound fails at once when the cap is not enforced (checked:
// with LogBudget's enforcement a no-op, backups and copies took 40+ MiB).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { LogGapReason, ProcessState, StartWait } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil } from "../helpers/daemon.js";
import { expectedLines, readAll, writerProgram } from "../helpers/logs.js";

/** Bytes the log directory takes on disk (allocated blocks: sparse files count what they hold). */
function diskBytes(dir: string): number {
  return sample(dir).total;
}

/** One look at the log directory: allocated bytes, and the rotation copies in flight per stream. */
function sample(dir: string): { total: number; made: number; partials: Map<string, number[]>; backupMax: number } {
  let total = 0;
  let made = 0;
  let backupMax = 0;
  const partials = new Map<string, number[]>();
  for (const name of readdirSync(dir)) {
    try {
      const info = statSync(join(dir, name));
      total += info.blocks * 512;
      const partial = /^(.*\.log)\.\d{20}\.partial$/.exec(name);
      if (partial) partials.set(partial[1], [...(partials.get(partial[1]) ?? []), info.size]);
      else if (/\.log\.\d{20}$/.test(name)) backupMax = Math.max(backupMax, info.size);
      if (partial || /\.log\.\d{20}$/.test(name)) made += info.blocks * 512;
    } catch {
      // removed meanwhile
    }
  }
  return { total, made, partials, backupMax };
}

test("100 programs writing as fast as they can under server.logs.max_total: the cap holds, every byte read or reported", { timeout: 300_000 }, (t) =>
  capUnderWriters(t, {}),
);

// The bound on backups and copies must not rest on how fast a round of drops runs: a held event
// loop or a loaded disk makes rounds slow (CI once saw 29 MiB of backups against the stated
// 16.9 MiB). Each round is held 1 s here; rotation steps wait for the round (LogBudget.hold).
// Checked: with the steps not waiting (hold() always undefined), backups and copies reached
// 37.6 MiB (13.5 MiB with rounds of 300 ms, too close to the bound to fail surely); with them
// waiting, 5.9 MiB.
test("the same with every round of drops slowed to 1 s: rotations wait for the round, the bound holds", { timeout: 300_000 }, (t) =>
  capUnderWriters(t, { CORRAL_FAILPOINTS: "log-budget-round-delay-ms=1000" }),
);

async function capUnderWriters(t: TestContext, env: Record<string, string>): Promise<void> {
  const count = 100;
  // 525 KB each, 52 MB in all against a 4 MiB cap.
  const lines = 15_000;
  const cap = 4 * 1024 * 1024;
  // The writers begin together once all are spawned: a bulk start forks one program per turn of
  // the daemon's loop (~50 ms a fork of the daemon at a load of 10), and the first writers would
  // otherwise write all they have while the loop forks the others (that holds every part of the
  // daemon, not the log mechanism this test is for: the start path is issue 19's; started one by
  // one before rotation steps waited for the cap's rounds, backups and copies peaked at 22.9 MiB).
  const gateDir = mkdtempSync(join(tmpdir(), "corral-gate-"));
  const gate = join(gateDir, "go");
  const gated = (command: string[]) => ["/bin/sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"', gate, ...command];
  const programs = Object.fromEntries(
    Array.from({ length: count }, (_, i) => {
      const program = writerProgram(["lines", String(lines)], { max_bytes: "64KiB", backups: 100 });
      return [`w${i}`, { ...program, command: gated(program.command) }];
    }),
  );
  const capped = await startTestDaemon({
    configYaml: JSON.stringify({ server: { logs: { max_total: cap } }, programs }),
    readyTimeoutMs: 60_000,
    env,
  });
  try {
    const pm = capped.client.processManager;
    const logs = join(capped.home, "logs");
    const maxBytes = 64 * 1024;
    let peak = 0;
    let madePeak = 0;
    let settled: Promise<unknown> = Promise.resolve();
    let samples = 0;
    let mostInFlight = { stream: "", sizes: [] as number[] };
    let backupMax = 0;
    const sampler = setInterval(() => {
      const now = sample(logs);
      samples++;
      peak = Math.max(peak, now.total);
      madePeak = Math.max(madePeak, now.made);
      backupMax = Math.max(backupMax, now.backupMax);
      for (const [stream, sizes] of now.partials) if (sizes.length > mostInFlight.sizes.length) mostInFlight = { stream, sizes };
    }, 20);
    try {
      await pm.startAll({ wait: StartWait.RUNNING });
      writeFileSync(gate, "");
      await waitUntil(async () => (await pm.listProcesses({})).processes.every((p) => p.state === ProcessState.EXITED), 240_000, "every writer to exit");
      // Sampled until settled (the backlog left at the exits is rotated and dropped then); the
      // bound while writing is asserted first, so that a cap not enforced fails on it.
      const slack = 2 * count * 4096;
      settled = waitUntil(() => diskBytes(logs) <= cap + slack, 30_000, `the logs under ${cap} + ${slack} bytes (now ${diskBytes(logs)})`).then(
        () => undefined,
        (error: unknown) => error,
      );
      await settled;
    } finally {
      clearInterval(sampler);
    }
    // The stated slack (README "Logs", "How much disk") of what the daemon itself puts on disk,
    // backups and rotation copies: the cap, plus one copy in flight per stream being rotated
    // (<= max_bytes; only stdout is written here), plus one backup per stream made after a round
    // of drops was planned (each file's rotation step under way finishes first, then the drop has
    // its turn), plus a block per stream of rounding. The current files are the children's own:
    // what they write before the daemon's checks reach them (R x T) is reported, not asserted.
    const block = 4096;
    const madeBound = cap + 2 * count * maxBytes + count * block;
    t.diagnostic(
      `peak ${(peak / 2 ** 20).toFixed(1)} MiB on disk while writing, cap ${(cap / 2 ** 20).toFixed(1)} MiB; of it backups and copies at most ${(madePeak / 2 ** 20).toFixed(1)} MiB (bound ${(madeBound / 2 ** 20).toFixed(1)} MiB); settled ${(diskBytes(logs) / 2 ** 20).toFixed(1)} MiB; ${samples} samples`,
    );
    assert.ok(
      madePeak <= madeBound,
      `backups and rotation copies took ${madePeak} bytes while the programs wrote, over the stated bound ${madeBound} (cap ${cap})`,
    );
    const notSettled = await settled;
    if (notSettled) throw notSettled;
    // The copies in flight: one backup's worth per stream at most, at every sample.
    assert.ok(
      mostInFlight.sizes.length <= 1,
      `${mostInFlight.stream} had ${mostInFlight.sizes.length} rotation copies in flight at once (${mostInFlight.sizes})`,
    );
    assert.ok(
      mostInFlight.sizes.every((size) => size <= maxBytes),
      `a rotation copy of ${mostInFlight.sizes} bytes, over max_bytes ${maxBytes}`,
    );
    assert.ok(backupMax <= maxBytes, `a backup of ${backupMax} bytes, over max_bytes ${maxBytes}`);
    assert.ok(samples > 50, `the directory was sampled while the programs wrote (${samples} samples)`);
    const expected = expectedLines(lines);
    let capDrops = 0;
    for (let i = 0; i < count; i++) {
      const read = await readAll(pm, `w${i}`);
      assert.equal(read.end, expected.length, `w${i}: every byte counted`);
      assert.ok(read.data.equals(expected.subarray(read.first)), `w${i}: the kept bytes are the stream's last ones, at their offsets`);
      let at = 0;
      for (const gap of read.gaps) {
        assert.equal(Number(gap.fromOffset), at, `w${i}: gaps are contiguous from 0`);
        at = Number(gap.toOffset);
        if (gap.reason === LogGapReason.MAX_TOTAL) capDrops++;
      }
      assert.equal(at, read.first, `w${i}: the gaps end where the kept bytes begin`);
    }
    assert.ok(capDrops > 0, "the cap dropped something, and said so");
  } finally {
    await capped.stop();
    rmSync(gateDir, { recursive: true, force: true });
  }
}
