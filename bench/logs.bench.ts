// `npm run bench:logs`: what capturing output costs (issue 13). Rows: N MB of stdout captured by corral (rotated at the default 10 MiB,
// 5 backups) vs the same writer spawned by bare Node straight into an O_APPEND file, in the same
// run, with the bytes counted checked equal to the bytes written; and the daemon's CPU per
// rotation when a program is rotated ~10 times a second. Sizes: BENCH_LOG_MB (default "1024"; the 200 MB row
// is in `npm run bench`, bench/rows/logs.ts, whose capture functions this uses).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StartWait, StopWait } from "../client/ts/index.js";
import { repoRoot, startTestDaemon } from "../test/helpers/daemon.js";
import { bareCapture, corralCapture } from "./rows/logs.js";
import { sleep } from "../test/helpers/wait.js";
import { quantile } from "./quantile.js";

const SIZES_MB = (process.env.BENCH_LOG_MB ?? "1024")
  .split(",")
  .filter((v) => v !== "" && v !== "none")
  .map(Number);
const REPS = Number(process.env.BENCH_LOG_REPS ?? 3);
const writer = join(repoRoot, "dist/test/fixtures/log-writer.js");
const MB = 1024 * 1024;

const rows: string[] = [];
const programs: Record<string, { command: string[]; autostart: boolean; autorestart: string; startsecs: string; log?: Record<string, unknown> }> = {};
for (const mb of SIZES_MB)
  programs[`w${mb}`] = { command: [process.execPath, writer, "records", String(mb * MB)], autostart: false, autorestart: "never", startsecs: "0s" };
// ~64 KiB every 100 ms against max_bytes 64 KiB: about 10 rotations a second.
programs.rotor = {
  command: ["/bin/sh", "-c", "while :; do printf '%065535d\\n' 0; sleep 0.1; done"],
  autostart: false,
  autorestart: "never",
  startsecs: "0s",
  log: { max_bytes: "64KiB", backups: 3 },
};
const daemon = await startTestDaemon({ programs, readyTimeoutMs: 60_000 });
try {
  const pm = daemon.client.processManager;
  rows.push("| figure | corral | child writes the file itself | ratio |", "|---|---|---|---|");
  for (const mb of SIZES_MB) {
    const corral: number[] = [];
    const bare: number[] = [];
    let logical = 0n;
    for (let i = 0; i < REPS; i++) {
      bare.push(await bareCapture(mb * MB));
      corral.push(await corralCapture(daemon, `w${mb}`, mb * MB));
      logical = BigInt(mb * MB);
    }
    const c = quantile(corral, 0.5);
    const b = quantile(bare, 0.5);
    rows.push(
      `| ${mb} MB of stdout captured, median of ${REPS} (counted = written: ${logical} bytes) | ${c.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(c / b).toFixed(2)}x |`,
    );
  }

  // Rotation cost: the daemon's CPU (its own plus the fallocate children it reaped) per rotation.
  const ticks = () => {
    // utime, stime, cutime, cstime: fields 14-17 of /proc/PID/stat.
    const text = readFileSync(`/proc/${daemon.pid}/stat`, "latin1");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  };
  const seconds = Number(process.env.BENCH_ROTATION_SECONDS ?? 10);
  await pm.startProcess({ name: "rotor", wait: StartWait.RUNNING });
  const first = (await pm.readLogs({ name: "rotor", offset: 0n, maxBytes: 1 })).firstOffset;
  const t0 = ticks();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const used = ticks() - t0;
  const wall = (performance.now() - w0) / 1000;
  const moved = Number((await pm.readLogs({ name: "rotor", offset: 0n, maxBytes: 1 })).firstOffset - first);
  await pm.stopProcess({ name: "rotor", wait: StopWait.STOPPED });
  // Each rotation moves one 64 KiB backup out (the oldest of 3 goes at the same time).
  const rotations = Math.round(moved / (64 * 1024));
  const cpuMs = (used * 10) / Math.max(rotations, 1);
  rows.push(
    `| rotation at ${(rotations / wall).toFixed(1)}/s: daemon CPU per rotation (incl. fallocate(1)) | ${cpuMs.toFixed(2)} ms | - | ${((used * 10) / (wall * 10)).toFixed(1)}% of a core |`,
  );
} finally {
  await daemon.stop();
}
console.log(rows.join("\n"));
