// End-to-end specification of server.logs.max_total under many fast writers (issue 13): the logs
// settle under the cap (plus one block per stream), every byte a program wrote is either read at
// its offset or inside a gap that says why (MAX_TOTAL for the cap's drops), and while they write
// the parts of the slack the design bounds hold at every sample (README "Logs", "How much disk"):
// a rotation has at most one backup's copy in flight per stream, and no backup exceeds max_bytes.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LogGapReason, ProcessState, StartWait } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil } from "../helpers/daemon.js";
import { expectedLines, readAll, writerProgram } from "../helpers/logs.js";

/** Bytes the log directory takes on disk (allocated blocks: sparse files count what they hold). */
function diskBytes(dir: string): number {
  return sample(dir).total;
}

/** One look at the log directory: allocated bytes, and the rotation copies in flight per stream. */
function sample(dir: string): { total: number; partials: Map<string, number[]>; backupMax: number } {
  let total = 0;
  let backupMax = 0;
  const partials = new Map<string, number[]>();
  for (const name of readdirSync(dir)) {
    try {
      const info = statSync(join(dir, name));
      total += info.blocks * 512;
      const partial = /^(.*\.log)\.\d{20}\.partial$/.exec(name);
      if (partial) partials.set(partial[1], [...(partials.get(partial[1]) ?? []), info.size]);
      else if (/\.log\.\d{20}$/.test(name)) backupMax = Math.max(backupMax, info.size);
    } catch {
      // removed meanwhile
    }
  }
  return { total, partials, backupMax };
}

test("100 programs writing as fast as they can under server.logs.max_total: the cap holds, every byte read or reported", { timeout: 300_000 }, async (t) => {
  const count = 100;
  const lines = 5_000;
  const cap = 4 * 1024 * 1024;
  const programs = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`w${i}`, writerProgram(["lines", String(lines)], { max_bytes: "64KiB", backups: 100 })]),
  );
  const capped = await startTestDaemon({
    configYaml: JSON.stringify({ server: { logs: { max_total: cap } }, programs }),
    readyTimeoutMs: 60_000,
  });
  try {
    const pm = capped.client.processManager;
    const logs = join(capped.home, "logs");
    const maxBytes = 64 * 1024;
    let peak = 0;
    let samples = 0;
    let mostInFlight = { stream: "", sizes: [] as number[] };
    let backupMax = 0;
    const sampler = setInterval(() => {
      const now = sample(logs);
      samples++;
      peak = Math.max(peak, now.total);
      backupMax = Math.max(backupMax, now.backupMax);
      for (const [stream, sizes] of now.partials) if (sizes.length > mostInFlight.sizes.length) mostInFlight = { stream, sizes };
    }, 20);
    try {
      await pm.startAll({ wait: StartWait.RUNNING });
      await waitUntil(async () => (await pm.listProcesses({})).processes.every((p) => p.state === ProcessState.EXITED), 240_000, "every writer to exit");
      const slack = 2 * count * 4096;
      await waitUntil(() => diskBytes(logs) <= cap + slack, 30_000, `the logs under ${cap} + ${slack} bytes (now ${diskBytes(logs)})`);
    } finally {
      clearInterval(sampler);
    }
    t.diagnostic(
      `peak ${(peak / 2 ** 20).toFixed(1)} MiB on disk while writing, cap ${(cap / 2 ** 20).toFixed(1)} MiB; settled ${(diskBytes(logs) / 2 ** 20).toFixed(1)} MiB; ${samples} samples`,
    );
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
  }
});
