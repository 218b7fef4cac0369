// `npm run bench` (or `npm run bench:containment`): what containment costs, each figure next to a
// baseline measured in the same run. StopAll of N programs with a cgroup per run against the same
// with process groups only (server.cgroup_root: off) and a bare kill of N process groups; StopAll
// of M runs a new daemon adopted (kept running by the old one's Shutdown keep_processes), with the
// slowest GetServerInfo answered meanwhile (a stop must not stall the daemon); and the start-up
// detection of what the host offers (cgroup2 mount, subtree, limit controllers), in-process.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessState, StartWait, StopWait } from "../client/ts/index.js";
import { detectCgroups, probeLimitControllers, removeSubtree } from "../server/core/os/cgroup.js";
import { startTestDaemon, type TestDaemon } from "../test/helpers/daemon.js";
import { isAlive } from "../test/helpers/proc.js";
import { sleep } from "../test/helpers/wait.js";
import { quantile } from "./quantile.js";

const N_PROGRAMS = Number(process.env.BENCH_CONTAIN_PROGRAMS ?? 500);
const N_ADOPTED = Number(process.env.BENCH_ADOPTED ?? 200);
const N_DETECT = Number(process.env.BENCH_DETECT ?? 200);

type Row = [figure: string, corral: string, baseline: string, ratio: string];
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const us = (value: number) => `${(value * 1000).toFixed(0)} µs`;

function sleepers(count: number, autostart: boolean): Record<string, Record<string, unknown>> {
  const programs: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < count; i++) programs[`p${i}`] = { command: ["sleep", "300"], autostart, startsecs: 0, stop_timeout: "5s", autorestart: "never" };
  return programs;
}

function configYaml(count: number, autostart: boolean, cgroups: boolean): string {
  return JSON.stringify({ server: cgroups ? {} : { cgroup_root: "off" }, programs: sleepers(count, autostart) });
}

async function allRunning(daemon: TestDaemon, count: number): Promise<number[]> {
  for (;;) {
    const processes = (await daemon.client.processManager.listProcesses({})).processes;
    const up = processes.filter((p) => p.state === ProcessState.RUNNING);
    if (up.length === count) return up.map((p) => p.run!.pid);
    await sleep(50);
  }
}

/** StopAll -> every pid gone, with GetServerInfo called in a loop meanwhile: [stop ms, slowest answer ms]. */
async function timedStopAll(daemon: TestDaemon, pids: number[]): Promise<[number, number]> {
  const pm = daemon.client.processManager;
  let done = false;
  let slowest = 0;
  const pinging = (async () => {
    while (!done) {
      const t = performance.now();
      await pm.getServerInfo({});
      slowest = Math.max(slowest, performance.now() - t);
    }
  })();
  const t0 = performance.now();
  await pm.stopAll({ wait: StopWait.STOPPED });
  while (pids.some(isAlive)) await sleep(2);
  const stopMs = performance.now() - t0;
  done = true;
  await pinging;
  return [stopMs, slowest];
}

/** Baseline: N bare `sleep`s in their own process groups, SIGTERM to each group, until all are gone. */
async function bareStop(count: number): Promise<number> {
  const pids = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve, reject) => {
          const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
          child.once("spawn", () => resolve(child.pid!));
          child.once("error", reject);
        }),
    ),
  );
  const t0 = performance.now();
  for (const pid of pids) process.kill(-pid, "SIGTERM");
  while (pids.some(isAlive)) await sleep(2);
  return performance.now() - t0;
}

async function benchStopAll(cgroups: boolean): Promise<[number, string]> {
  const daemon = await startTestDaemon({ configYaml: configYaml(N_PROGRAMS, false, cgroups), readyTimeoutMs: 60_000 });
  try {
    const info = await daemon.client.processManager.getServerInfo({});
    await daemon.client.processManager.startAll({ wait: StartWait.RUNNING, timeout: { seconds: 300n } });
    const pids = await allRunning(daemon, N_PROGRAMS);
    const [stopMs] = await timedStopAll(daemon, pids);
    return [stopMs, info.containment?.cgroups ? "cgroups" : "process groups"];
  } finally {
    await daemon.stop();
  }
}

async function benchAdopted(cgroups: boolean): Promise<[number, number, string]> {
  const home = mkdtempSync(join(tmpdir(), "corral-bench-adopt-"));
  try {
    const first = await startTestDaemon({ home, configYaml: configYaml(N_ADOPTED, true, cgroups), readyTimeoutMs: 60_000 });
    await allRunning(first, N_ADOPTED);
    await first.client.processManager.shutdown({ keepProcesses: true });
    await first.exited;
    await first.stop();
    const second = await startTestDaemon({ home, configYaml: configYaml(N_ADOPTED, true, cgroups), readyTimeoutMs: 60_000 });
    try {
      const info = await second.client.processManager.getServerInfo({});
      const pids = await allRunning(second, N_ADOPTED);
      const [stopMs, slowest] = await timedStopAll(second, pids);
      return [stopMs, slowest, info.containment?.cgroups ? "cgroups" : "process groups"];
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** detectCgroups (what the daemon runs once at start-up) and probeLimitControllers (corral check), against reading mountinfo alone. */
function benchDetection(): Row[] {
  const home = mkdtempSync(join(tmpdir(), "corral-bench-detect-"));
  const detect: number[] = [];
  const probe: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < N_DETECT; i++) {
      let t = performance.now();
      const support = detectCgroups({ home });
      detect.push(performance.now() - t);
      removeSubtree(support);
      t = performance.now();
      probeLimitControllers({ home });
      probe.push(performance.now() - t);
      t = performance.now();
      readFileSync("/proc/self/mountinfo", "utf8");
      bare.push(performance.now() - t);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const base = quantile(bare, 0.5);
  return [
    [
      `start-up containment detection, median (n=${N_DETECT})`,
      us(quantile(detect, 0.5)),
      `${us(base)} (read mountinfo)`,
      `${(quantile(detect, 0.5) / base).toFixed(1)}x`,
    ],
    [
      `corral check's controller probe, median (n=${N_DETECT})`,
      us(quantile(probe, 0.5)),
      `${us(base)} (read mountinfo)`,
      `${(quantile(probe, 0.5) / base).toFixed(1)}x`,
    ],
  ];
}

function printTable(rows: Row[]): void {
  const header: Row = ["figure", "corral", "baseline (same run)", "ratio"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: Row) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  console.error("bench: containment detection...");
  rows.push(...benchDetection());
  console.error(`bench: StopAll of ${N_PROGRAMS}, cgroups then process groups, then a bare kill...`);
  const [withCgroups, modeA] = await benchStopAll(true);
  const [withGroups, modeB] = await benchStopAll(false);
  const bare = await bareStop(N_PROGRAMS);
  rows.push([`StopAll ${N_PROGRAMS} -> all gone (${modeA})`, ms(withCgroups), `${ms(bare)} (bare kill of the groups)`, `${(withCgroups / bare).toFixed(2)}x`]);
  rows.push([`StopAll ${N_PROGRAMS} -> all gone (${modeB})`, ms(withGroups), `${ms(bare)} (bare kill of the groups)`, `${(withGroups / bare).toFixed(2)}x`]);
  rows.push([`StopAll ${N_PROGRAMS}: cgroups against process groups`, ms(withCgroups), ms(withGroups), `${(withCgroups / withGroups).toFixed(2)}x`]);
  console.error(`bench: StopAll of ${N_ADOPTED} adopted runs...`);
  for (const cgroups of [true, false]) {
    const [stopMs, slowest, mode] = await benchAdopted(cgroups);
    const bareAdopted = await bareStop(N_ADOPTED);
    rows.push([
      `StopAll ${N_ADOPTED} adopted runs -> all gone (${mode})`,
      ms(stopMs),
      `${ms(bareAdopted)} (bare kill of the groups)`,
      `${(stopMs / bareAdopted).toFixed(2)}x`,
    ]);
    rows.push([`  slowest GetServerInfo during that stop (${mode})`, ms(slowest), "-", "-"]);
  }
  console.log(`\ncorral containment benchmark (${new Date().toISOString()}, node ${process.version})\n`);
  printTable(rows);
}

await main();
