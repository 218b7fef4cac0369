// `node dist/bench/log-cut.bench.js [CUTS]` after a build: the wall time of one rotation cut
// (FALLOC_FL_COLLAPSE_RANGE of one block off the head of a file), through the long-lived fallocate
// helper and, in a second process, with CORRAL_FALLOCATE_HELPER=off (one fallocate(1) spawn per
// cut, the design before it), same run. Prints p50/p90/p99/max and this process's CPU.
import { execFileSync } from "node:child_process";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collapse } from "../server/core/process/log-fallocate.js";
import { quantile } from "./quantile.js";

const cuts = Number(process.argv[2] ?? 200);
const block = 4096;

async function measure(): Promise<string> {
  // In the repository (ext4 here), not /tmp: tmpfs has no collapse.
  const path = join(fileURLToPath(new URL("../../", import.meta.url)), `.log-cut-bench-${process.pid}`);
  writeFileSync(path, Buffer.alloc(block * (cuts + 2), 65));
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  try {
    for (let i = 0; i < cuts; i++) {
      const t0 = performance.now();
      await collapse(path, block);
      times.push(performance.now() - t0);
    }
    if (statSync(path).size !== block * 2) throw new Error(`${path}: ${statSync(path).size} bytes left, expected ${block * 2}`);
  } finally {
    rmSync(path, { force: true });
  }
  const cpu = process.cpuUsage(cpu0);
  const q = (p: number) => quantile(times, p).toFixed(2);
  return `${cuts} cuts: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${Math.max(...times).toFixed(2)} ms; this process's CPU ${((cpu.user + cpu.system) / 1000 / cuts).toFixed(2)} ms a cut`;
}

if (process.env.LOG_CUT_CHILD) {
  console.log(await measure());
} else {
  const run = (env: Record<string, string>) =>
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(cuts)], {
      env: { ...process.env, LOG_CUT_CHILD: "1", ...env },
      encoding: "utf8",
    }).trim();
  console.log(`helper (one perl process):   ${run({})}`);
  console.log(`fallocate(1) spawned a cut:  ${run({ CORRAL_FALLOCATE_HELPER: "off" })}`);
}
