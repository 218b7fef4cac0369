// `npm run bench`: ProcessManager figures measured in one run against a real daemon process
// over its Unix socket, each next to a bare-Node baseline measured in the same run.
import { execFileSync, spawn } from "node:child_process";
import { ProcessState, StartWait, StopWait } from "../client/ts/index.js";
import { corralBin } from "../test/helpers/cli.js";
import { startTestDaemon, type TestDaemon } from "../test/helpers/daemon.js";
import { isAlive, readStat, residentBytes } from "../test/helpers/proc.js";
import { sleep } from "../test/helpers/wait.js";
import { quantile } from "./quantile.js";

const N_STARTS = Number(process.env.BENCH_STARTS ?? 200);
const N_PROGRAMS = Number(process.env.BENCH_PROGRAMS ?? 500);
const UNARY_SECONDS = Number(process.env.BENCH_UNARY_SECONDS ?? 3);

type Row = [figure: string, corral: string, baseline: string, ratio: string];

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;

/** Bare baseline: spawn `sleep` detached and wait for the 'spawn' event. */
async function bareSpawn(): Promise<{ latency: number; pid: number }> {
  const t0 = performance.now();
  const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  return { latency: performance.now() - t0, pid: child.pid! };
}

async function killAndWait(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  for (const pid of pids) {
    while (isAlive(pid)) await sleep(2);
  }
}

async function benchStartLatency(daemon: TestDaemon): Promise<Row[]> {
  const pm = daemon.client.processManager;
  const corral: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < N_STARTS; i++) {
    const t0 = performance.now();
    await pm.startProcess({ name: "one", wait: StartWait.RUNNING });
    corral.push(performance.now() - t0);
    await pm.stopProcess({ name: "one", wait: StopWait.STOPPED });
    const b = await bareSpawn();
    bare.push(b.latency);
    await killAndWait([b.pid]);
  }
  const med = quantile(corral, 0.5);
  const bmed = quantile(bare, 0.5);
  return [
    [`Start->RUNNING latency, median (n=${N_STARTS})`, ms(med), ms(bmed), `${(med / bmed).toFixed(2)}x`],
    [
      `Start->RUNNING latency, p99 (n=${N_STARTS})`,
      ms(quantile(corral, 0.99)),
      ms(quantile(bare, 0.99)),
      `${(quantile(corral, 0.99) / quantile(bare, 0.99)).toFixed(2)}x`,
    ],
  ];
}

async function benchBulk(daemon: TestDaemon): Promise<Row[]> {
  const pm = daemon.client.processManager;
  const selector = { matchLabels: { bulk: "yes" } };
  const rssIdle = residentBytes(daemon.pid);

  const t0 = performance.now();
  const started = await pm.startAll({ selector, wait: StartWait.RUNNING, timeout: { seconds: 120n } });
  const startAllMs = performance.now() - t0;
  const running = started.results.filter((r) => r.ok && r.process?.state === ProcessState.RUNNING).length;
  if (running !== N_PROGRAMS) throw new Error(`only ${running}/${N_PROGRAMS} RUNNING after StartAll`);
  const pids = started.results.map((r) => r.process!.run!.pid);
  await sleep(500);
  const rssRunning = residentBytes(daemon.pid);
  const ticksBefore = readStat(daemon.pid)!.cpuTicks;
  const idleWindowMs = 3000;
  await sleep(idleWindowMs);
  const idleCpuPct = ((readStat(daemon.pid)!.cpuTicks - ticksBefore) / 100 / (idleWindowMs / 1000)) * 100;

  const t1 = performance.now();
  await pm.stopAll({ selector, wait: StopWait.STOPPED });
  while (pids.some(isAlive)) await sleep(2);
  const stopAllMs = performance.now() - t1;

  // Baseline: a bare Node loop spawning the same 500, then killing them.
  const b0 = performance.now();
  const bare = await Promise.all(Array.from({ length: N_PROGRAMS }, () => bareSpawn()));
  const bareStartMs = performance.now() - b0;
  const b1 = performance.now();
  await killAndWait(bare.map((b) => b.pid));
  const bareStopMs = performance.now() - b1;

  // Memory after more cycles must stay flat.
  for (let cycle = 0; cycle < 2; cycle++) {
    await pm.startAll({ selector, wait: StartWait.RUNNING, timeout: { seconds: 120n } });
    await pm.stopAll({ selector, wait: StopWait.STOPPED });
  }
  await pm.startAll({ selector, wait: StartWait.RUNNING, timeout: { seconds: 120n } });
  await sleep(500);
  const rssAfterCycles = residentBytes(daemon.pid);
  await pm.stopAll({ selector, wait: StopWait.STOPPED });

  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  return [
    [`StartAll ${N_PROGRAMS} sleep -> all RUNNING`, ms(startAllMs), ms(bareStartMs), `${(startAllMs / bareStartMs).toFixed(2)}x`],
    [`StopAll ${N_PROGRAMS} -> all gone`, ms(stopAllMs), ms(bareStopMs), `${(stopAllMs / bareStopMs).toFixed(2)}x`],
    [`daemon RSS idle / with ${N_PROGRAMS} running`, `${mb(rssIdle)} / ${mb(rssRunning)}`, "-", "-"],
    [`daemon RSS with ${N_PROGRAMS} running after 3 start/stop cycles`, mb(rssAfterCycles), mb(rssRunning), `${(rssAfterCycles / rssRunning).toFixed(2)}x`],
    [`daemon CPU idle with ${N_PROGRAMS} running (${idleWindowMs / 1000}s)`, `${idleCpuPct.toFixed(2)} %`, "-", "-"],
  ];
}

async function benchUnary(daemon: TestDaemon): Promise<Row[]> {
  const pm = daemon.client.processManager;
  const rows: Row[] = [];
  for (const concurrency of [1, 16]) {
    let calls = 0;
    const latencies: number[] = [];
    const end = performance.now() + UNARY_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await pm.getProcess({ name: `p${Math.floor(N_PROGRAMS / 2)}` });
          latencies.push(performance.now() - t0);
          calls++;
        }
      }),
    );
    rows.push([
      `GetProcess calls/s, ${concurrency} in flight (${N_PROGRAMS + 1} programs)`,
      `${Math.round(calls / UNARY_SECONDS)}/s`,
      "-",
      `median ${ms(quantile(latencies, 0.5))}`,
    ]);
  }
  return rows;
}

/** `corral status` as a user runs it (a new node process each time) next to bare `node -e 0`. */
function benchCli(daemon: TestDaemon): Row[] {
  const time = (args: string[]) => {
    const t0 = performance.now();
    execFileSync(process.execPath, args, { stdio: "ignore" });
    return performance.now() - t0;
  };
  const corral: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 20; i++) {
    corral.push(time([corralBin, "status", "--address", daemon.address]));
    bare.push(time(["-e", "0"]));
  }
  const med = quantile(corral, 0.5);
  const bmed = quantile(bare, 0.5);
  return [[`CLI \`corral status\` round trip, median (n=20, ${N_PROGRAMS + 1} programs)`, ms(med), `${ms(bmed)} (node -e 0)`, `${(med / bmed).toFixed(2)}x`]];
}

function printTable(rows: Row[]): void {
  const header: Row = ["figure", "corral", "baseline (bare node, same run)", "ratio"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: Row) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const programs: Record<
    string,
    { command: string[]; autostart: boolean; startsecs: number; stop_timeout: string; labels?: Record<string, string>; autorestart: string }
  > = {
    one: { command: ["sleep", "300"], autostart: false, startsecs: 0, stop_timeout: "5s", autorestart: "never" },
  };
  for (let i = 0; i < N_PROGRAMS; i++) {
    programs[`p${i}`] = { command: ["sleep", "300"], autostart: false, startsecs: 0, stop_timeout: "5s", labels: { bulk: "yes" }, autorestart: "never" };
  }
  const daemon = await startTestDaemon({ programs, readyTimeoutMs: 30_000 });
  try {
    console.error(`bench: daemon pid ${daemon.pid}, ${N_PROGRAMS} programs; ${N_STARTS} starts...`);
    const rows = [...(await benchStartLatency(daemon))];
    console.error("bench: unary calls...");
    rows.push(...(await benchUnary(daemon)));
    console.error("bench: CLI round trips...");
    rows.push(...benchCli(daemon));
    console.error("bench: start-all / stop-all...");
    rows.push(...(await benchBulk(daemon)));
    console.log(`\ncorral ProcessManager benchmark (${new Date().toISOString()}, node ${process.version}, ${N_PROGRAMS} programs)\n`);
    printTable(rows);
  } finally {
    await daemon.stop();
  }
}

await main();
