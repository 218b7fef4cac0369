// `npm run bench:monitor`: the cost of one batched stats pass (what WatchStats does per tick)
// at 10, 100 and 1000 watched processes, and the daemon-side CPU and fd figures that follow.
// The processes are real `sleep`s spawned here; the sampler is the daemon's own (core, in-process).
import { spawn, type ChildProcess } from "node:child_process";
import { StatsSampler, type StatsTarget } from "../server/core/monitor/stats.js";
import type { RunLookup } from "../server/core/monitor/runs.js";
import { openFdCount } from "../test/helpers/proc.js";
import { quantile } from "./quantile.js";

const SIZES = (process.env.BENCH_MONITOR_SIZES ?? "10,100,1000").split(",").map(Number);
const PASSES = Number(process.env.BENCH_MONITOR_PASSES ?? 20);

// No managed programs here: every target is a pid.
const noRuns: RunLookup = {
  currentRun: (name) => {
    throw new Error(`no program ${name}`);
  },
  liveRuns: () => [],
};

const median = (values: number[]) => quantile(values, 0.5);

async function spawnSleepers(n: number): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) children.push(spawn("sleep", ["600"], { stdio: "ignore" }));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("spawn", resolve))));
  return children;
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}

function measure(sampler: StatsSampler, targets: StatsTarget[], includeChildren: boolean) {
  sampler.sample(targets, includeChildren); // baseline (and warm-up)
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const fdsBefore = openFdCount();
  let fdsMax = fdsBefore;
  for (let i = 0; i < PASSES; i++) {
    const t0 = performance.now();
    const samples = sampler.sample(targets, includeChildren);
    times.push(performance.now() - t0);
    fdsMax = Math.max(fdsMax, openFdCount());
    if (samples.some((s) => s.error || s.process?.cpuPercent === undefined)) throw new Error("a sample failed or lacks CPU %");
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerPass = (cpu.user + cpu.system) / 1000 / PASSES;
  return { median: median(times), max: Math.max(...times), cpuMsPerPass, fdsBefore, fdsMax };
}

const rows: string[][] = [];
for (const n of SIZES) {
  const children = await spawnSleepers(n);
  try {
    const targets: StatsTarget[] = children.map((child) => ({ pid: child.pid! }));
    for (const includeChildren of [false, true]) {
      const r = measure(new StatsSampler(noRuns), targets, includeChildren);
      rows.push([
        String(n),
        includeChildren ? "yes (full /proc scan)" : "no",
        `${r.median.toFixed(2)} ms`,
        `${r.max.toFixed(2)} ms`,
        `${((r.cpuMsPerPass / 1000) * 100).toFixed(2)} %`,
        `${r.fdsBefore} -> ${r.fdsMax}`,
      ]);
    }
  } finally {
    await stop(children);
  }
}

const header = ["watched", "tree", "pass, median", "pass, max", "daemon CPU at 1 s interval", "daemon fds during passes"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(`stats sampling, ${PASSES} passes per row (one pass = one WatchStats tick for all targets)\n`);
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
