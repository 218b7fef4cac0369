// Row: what rotation costs the daemon when a program is rotated about 10 times a second (64 KiB
// every 100 ms against max_bytes 64 KiB): the daemon's CPU per rotation, over the same writer
// with rotation off (what watching and counting the output costs anyway). CPU counted: the
// daemon's own, its fallocate helper's (a live child) and that of the children it reaped
// meanwhile (fallocate(1), where the helper is not used). The baseline is the limit: the same
// system calls per rotation issued by a bare perl loop at the same rate (bench/limit/rotation.pl),
// so the ratio is what corral's bookkeeping (crash-safe meta, marker, journal, accounting) adds to
// the kernel's own work. The detail shows the CPU per second, and the same with
// CORRAL_FALLOCATE_HELPER=off (one fallocate(1) spawn per cut: the design before the helper).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { helperSyscalls } from "../../server/core/process/log-fallocate-helper.js";
import { StartWait, StopWait } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil, type TestDaemon, type TestProgram } from "../../test/helpers/daemon.js";
import { sleep } from "../../test/helpers/wait.js";
import type { BenchContext } from "../lib/context.js";
import type { BenchRow } from "../lib/row.js";

const KiB = 1024;
const writer = ["/bin/sh", "-c", "while :; do printf '%065535d\\n' 0; sleep 0.1; done"];
const once = { autostart: false, autorestart: "never", startsecs: 0 };
const programs: Record<string, TestProgram> = {
  rotor: { command: writer, ...once, log: { max_bytes: "64KiB", backups: 3 } },
  flat: { command: writer, ...once, log: { max_bytes: 0, backups: 0 } },
};
/** The goal: corral's bookkeeping costs at most as much again as the kernel's work for the same rotation. */
const LIMIT_RATIO = 2;
const limitScript = fileURLToPath(new URL("../../../bench/limit/rotation.pl", import.meta.url));

function ticksOf(pid: number, withReaped: boolean): number {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // utime, stime (fields 14-15), cutime, cstime (16-17).
  return Number(fields[11]) + Number(fields[12]) + (withReaped ? Number(fields[13]) + Number(fields[14]) : 0);
}

/**
 * CPU ms of the daemon, its reaped children (withReaped: none of them is a program that exits in
 * the window) and its live fallocate helper (not the programs: their CPU is the writer's).
 */
export function daemonCpuMs(pid: number, withReaped = true): number {
  let ticks = ticksOf(pid, withReaped);
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1").trim().split(" ").filter(Boolean);
  for (const child of children) {
    try {
      if (readFileSync(`/proc/${child}/comm`, "latin1").trim() === "perl") ticks += ticksOf(Number(child), false);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10;
}

interface Window {
  cpuMsPerS: number;
  rotationsPerS: number;
}

/** Runs one program for `seconds` after its warm-up and measures the daemon's CPU and the rotations. */
async function window(daemon: TestDaemon, name: "rotor" | "flat", seconds: number): Promise<Window> {
  const pm = daemon.client.processManager;
  const first = async () => Number((await pm.readLogs({ name, offset: 0n, maxBytes: 1 })).firstOffset);
  await pm.startProcess({ name, wait: StartWait.RUNNING });
  // Warm-up: the backups are full, so each rotation from now on drops the oldest one.
  if (name === "rotor") await waitUntil(async () => (await first()) > 0, 60_000, "the rotor's backups to fill");
  else await sleep(500);
  const first0 = await first();
  const cpu0 = daemonCpuMs(daemon.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = daemonCpuMs(daemon.pid) - cpu0;
  const wallS = (performance.now() - t0) / 1000;
  const moved = (await first()) - first0;
  await pm.stopProcess({ name, wait: StopWait.STOPPED });
  let rotations = 0;
  if (name === "rotor") {
    // Each rotation made one backup; their sizes say how much one moves (64 KiB or a block less).
    const dir = join(daemon.home, "logs");
    const sizes = readdirSync(dir)
      .filter((f) => /^rotor\.stdout\.log\.\d{20}$/.test(f))
      .map((f) => statSync(join(dir, f)).size);
    rotations = moved / (sizes.reduce((a, b) => a + b, 0) / Math.max(sizes.length, 1) || 64 * KiB);
  }
  return { cpuMsPerS: cpu / wallS, rotationsPerS: rotations / wallS };
}

async function measureDaemon(seconds: number, env?: Record<string, string>): Promise<{ rotating: Window; flat: Window }> {
  const nodeArgs = process.env.BENCH_DAEMON_NODE_ARGS?.split(" ").filter(Boolean); // as bench/lib/context.ts
  const daemon = await startTestDaemon({ programs, readyTimeoutMs: 60_000, env, nodeArgs });
  try {
    const flat = await window(daemon, "flat", seconds);
    const rotating = await window(daemon, "rotor", seconds);
    return { rotating, flat };
  } finally {
    await daemon.stop();
  }
}

/** The limit's CPU per rotation, in a scratch directory of the machine's temp filesystem (where the daemons' homes are). */
function limitPerRotation(seconds: number): { msPerRotation: number; rotationsPerS: number } {
  const numbers = helperSyscalls();
  if (!numbers?.copy || !numbers.sync) throw new Error(`no system call numbers for ${process.arch}: the limit cannot run here`);
  const dir = mkdtempSync(join(tmpdir(), "corral-bench-rotation-"));
  try {
    const out = execFileSync("perl", [limitScript, dir, String(seconds), `${numbers.fallocate},${numbers.sync},${numbers.copy}`], { encoding: "utf8" });
    const { rotations, seconds: wallS, cpuMs } = JSON.parse(out) as { rotations: number; seconds: number; cpuMs: number };
    return { msPerRotation: cpuMs / Math.max(rotations, 1), rotationsPerS: rotations / wallS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const rotationCostRow: BenchRow = {
  name: "rotation cost at 10 rotations/s (daemon CPU per rotation)",
  baseline: "the same system calls from a bare loop",
  goal: { text: `≤ ${LIMIT_RATIO}× baseline`, pass: (m) => m.baseline !== undefined && m.corral <= LIMIT_RATIO * m.baseline },
  async measure(ctx: BenchContext) {
    const seconds = ctx.pick(10, 4);
    ctx.progress(`rotation at ~10/s: ${seconds} s rotated, ${seconds} s not, with the helper, with fallocate(1) per cut, and the bare loop`);
    const helper = await measureDaemon(seconds);
    const limit = limitPerRotation(seconds);
    const spawned = await measureDaemon(seconds, { CORRAL_FALLOCATE_HELPER: "off" });
    const perRotation = (m: { rotating: Window; flat: Window }) => (m.rotating.cpuMsPerS - m.flat.cpuMsPerS) / Math.max(m.rotating.rotationsPerS, 0.1);
    return {
      corral: perRotation(helper),
      baseline: limit.msPerRotation,
      unit: "ms",
      detail:
        `${helper.rotating.rotationsPerS.toFixed(1)} rotations/s (bare loop ${limit.rotationsPerS.toFixed(1)}/s): ` +
        `${helper.rotating.cpuMsPerS.toFixed(0)} ms/s of daemon CPU, ${helper.flat.cpuMsPerS.toFixed(0)} with rotation off; ` +
        `fallocate(1) per cut: ${perRotation(spawned).toFixed(2)} ms per rotation`,
    };
  },
};
