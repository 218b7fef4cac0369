// Row: what rotation costs the daemon when a program is rotated about 10 times a second (64 KiB
// every 100 ms against max_bytes 64 KiB). corral: the daemon's CPU per second of wall time while it
// rotates; baseline: the same writer in the same run with rotation off (what watching and counting
// the output costs anyway). CPU counted: the daemon's own, its fallocate helper's (a live child)
// and that of the children it reaped meanwhile (fallocate(1), where the helper is not used). The
// detail shows the same with CORRAL_FALLOCATE_HELPER=off (one fallocate(1) spawn per cut: the
// design before the helper) and the CPU per rotation.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
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
/** The goal: rotating 10 times a second adds at most this much daemon CPU per second (2 % of a core). */
const EXTRA_MS_PER_S = 20;

function ticksOf(pid: number, withReaped: boolean): number {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // utime, stime (fields 14-15), cutime, cstime (16-17).
  return Number(fields[11]) + Number(fields[12]) + (withReaped ? Number(fields[13]) + Number(fields[14]) : 0);
}

/** CPU ms of the daemon, its reaped children and its live fallocate helper (not the programs: their CPU is the writer's). */
function daemonCpuMs(pid: number): number {
  let ticks = ticksOf(pid, true);
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

export const rotationCostRow: BenchRow = {
  name: "rotation cost at 10 rotations/s (daemon CPU per s)",
  baseline: "the same writer, rotation off",
  goal: { text: `≤ baseline + ${EXTRA_MS_PER_S} ms`, pass: (m) => m.baseline !== undefined && m.corral - m.baseline <= EXTRA_MS_PER_S },
  async measure(ctx: BenchContext) {
    const seconds = ctx.pick(10, 4);
    ctx.progress(`rotation at ~10/s: ${seconds} s rotated, ${seconds} s not, with the helper and with fallocate(1) per cut`);
    const helper = await measureDaemon(seconds);
    const spawned = await measureDaemon(seconds, { CORRAL_FALLOCATE_HELPER: "off" });
    const perRotation = (m: { rotating: Window; flat: Window }) => (m.rotating.cpuMsPerS - m.flat.cpuMsPerS) / Math.max(m.rotating.rotationsPerS, 0.1);
    return {
      corral: helper.rotating.cpuMsPerS,
      baseline: helper.flat.cpuMsPerS,
      unit: "ms",
      detail:
        `${helper.rotating.rotationsPerS.toFixed(1)} rotations/s, ${perRotation(helper).toFixed(2)} ms CPU per rotation; ` +
        `fallocate(1) per cut: ${spawned.rotating.cpuMsPerS.toFixed(0)} vs ${spawned.flat.cpuMsPerS.toFixed(0)} ms/s, ` +
        `${spawned.rotating.rotationsPerS.toFixed(1)}/s, ${perRotation(spawned).toFixed(2)} ms per rotation`,
    };
  },
};
