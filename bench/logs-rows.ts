// Bench measurements for output (issue 13) beside the rows of bench/rows/logs.ts (whose capture
// functions they use): the measure of the stalled-followers row, and a profile of the capture that
// the table does not run. Alone: `node dist/bench/logs-rows.js [capture|profile|followers]` after a build.
//   captureRatio: N MB of stdout captured by corral vs the same writer spawned by bare Node into
//     an O_APPEND file, alternating in the same run (bytes counted checked equal to bytes written),
//     with the daemon's own CPU per capture.
//   captureProfile: the same capture with rotation off and with the total cap off, to show which
//     part of the daemon's work costs the writer time (the child writes its own file; whatever
//     corral adds is CPU and disk taken from it: rotation copies, fallocate spawns, inotify).
//   stalledFollowersRss: daemon RSS growth with N FollowLogs streams that take one chunk and stop
//     reading while the program writes 40 MB more (the stream bound of README "Logs").
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, startTestDaemon, waitUntil, type TestDaemon } from "../test/helpers/daemon.js";
import { quantile } from "./quantile.js";
import { bareCapture, corralCapture } from "./rows/logs.js";

const writer = join(repoRoot, "dist/test/fixtures/log-writer.js");
const MB = 1024 * 1024;

/** What a measure returns (assignable to bench/lib/row.ts's Measurement). */
export interface LogMeasurement {
  corral: number;
  baseline?: number;
  unit: "ms" | "MB";
  detail?: string;
}

const once = { autostart: false, autorestart: "never", startsecs: "0s" };

/** Variants of the capture: the default (rotated at 10 MiB, 5 backups, 1 GiB total cap), and with parts of the log work off. */
const VARIANTS = {
  default: { log: undefined, maxTotal: undefined },
  "no rotation": { log: { max_bytes: 0, backups: 0 }, maxTotal: undefined },
  "no rotation, no total cap": { log: { max_bytes: 0, backups: 0 }, maxTotal: 0 },
} as const;
type Variant = keyof typeof VARIANTS;

async function captureDaemon(mb: number, variant: Variant): Promise<TestDaemon> {
  const { log, maxTotal } = VARIANTS[variant];
  const program = { command: [process.execPath, writer, "records", String(mb * MB)], ...once, ...(log ? { log } : {}) };
  const server = maxTotal === undefined ? {} : { server: { logs: { max_total: maxTotal } } };
  return startTestDaemon({ configYaml: JSON.stringify({ ...server, programs: { w: program } }), readyTimeoutMs: 60_000 });
}

/** The capture row: corral vs bare, alternating, median of reps (goal ≤ 1.05×). */
export async function captureRatio(mb = 200, reps = 3, variant: Variant = "default"): Promise<LogMeasurement> {
  const daemon = await captureDaemon(mb, variant);
  try {
    const corral: number[] = [];
    const bare: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < reps; r++) {
      bare.push(await bareCapture(mb * MB));
      const before = ownCpuMs(daemon.pid);
      corral.push(await corralCapture(daemon, "w", mb * MB));
      cpu.push(ownCpuMs(daemon.pid) - before);
    }
    return {
      corral: quantile(corral, 0.5),
      baseline: quantile(bare, 0.5),
      unit: "ms",
      detail: `${variant}; median of ${reps}; corral ${corral.map((v) => v.toFixed(0)).join("/")} bare ${bare.map((v) => v.toFixed(0)).join("/")} ms; daemon CPU ${cpu.map((v) => v.toFixed(0)).join("/")} ms`,
    };
  } finally {
    await daemon.stop();
  }
}

/** The capture with each part of the log work turned off in turn (which part costs the writer). */
export async function captureProfile(mb = 200, reps = 3): Promise<Record<Variant, LogMeasurement>> {
  const out = {} as Record<Variant, LogMeasurement>;
  for (const variant of Object.keys(VARIANTS) as Variant[]) out[variant] = await captureRatio(mb, reps, variant);
  return out;
}

/** The daemon's own CPU (user + system, not its children's) in ms: what it took from the writer's cores. */
function ownCpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * Daemon RSS (MB) with `followers` FollowLogs streams that took one chunk and stopped reading,
 * after the program wrote 40 MB more; baseline: the daemon's RSS before they opened.
 */
export async function stalledFollowersRss(followers = 200): Promise<LogMeasurement> {
  // ~100 KB every 20 ms, stdout only (the stderr half of each merged follow stays pending).
  const script = "b=$(i=0; while [ $i -lt 100 ]; do printf '%01000d\\n' $i; i=$((i+1)); done); while :; do printf '%s\\n' \"$b\"; sleep 0.02; done";
  const daemon = await startTestDaemon({
    programs: { writer: { command: ["/bin/sh", "-c", script], startsecs: 0, log: { max_bytes: "8MiB", backups: 1 } } },
    readyTimeoutMs: 60_000,
  });
  const abort = new AbortController();
  // One signal for every follower: 200 listeners on it are intended.
  setMaxListeners(followers + 10, abort.signal);
  try {
    const pm = daemon.client.processManager;
    await waitUntil(async () => (await pm.readLogs({ name: "writer", offset: 0n, maxBytes: 1 })).endOffset > 0n, 60_000, "the writer's first output");
    const before = rssOf(daemon.pid);
    const streams = await Promise.all(
      Array.from({ length: followers }, async () => {
        const stream = pm.followLogs({ name: "writer" }, { signal: abort.signal })[Symbol.asyncIterator]();
        await stream.next();
        return stream;
      }),
    );
    const endNow = async () => (await pm.readLogs({ name: "writer", offset: 0n, maxBytes: 1 })).endOffset;
    const start = await endNow();
    await waitUntil(async () => (await endNow()) - start > 40_000_000n, 120_000, "40 MB more output");
    const t0 = performance.now();
    await pm.getServerInfo({});
    const answerMs = performance.now() - t0;
    const after = rssOf(daemon.pid);
    abort.abort();
    await Promise.all(streams.map((s) => s.return?.(undefined).catch(() => undefined)));
    return {
      corral: after / MB,
      baseline: before / MB,
      unit: "MB",
      detail: `${followers} stalled followers, 40 MB written meanwhile; RSS grew ${((after - before) / MB).toFixed(1)} MB (goal: under 300 MB in all); GetServerInfo ${answerMs.toFixed(1)} ms`,
    };
  } finally {
    abort.abort();
    await daemon.stop();
  }
}

// Run alone: print what was measured.
if (process.argv[1]?.endsWith("logs-rows.js")) {
  const what = process.argv[2] ?? "capture";
  const mb = Number(process.env.BENCH_LOG_MB ?? 200);
  const reps = Number(process.env.BENCH_LOG_REPS ?? 3);
  const show = (name: string, m: LogMeasurement) =>
    console.log(
      `| ${name} | ${m.corral.toFixed(1)} ${m.unit} | ${m.baseline?.toFixed(1) ?? "-"} ${m.unit} | ${m.baseline ? (m.corral / m.baseline).toFixed(2) : "-"}x | ${m.detail ?? ""} |`,
    );
  if (what === "capture") show(`${mb} MB of stdout captured`, await captureRatio(mb, reps));
  else if (what === "profile") for (const [variant, m] of Object.entries(await captureProfile(mb, reps))) show(`${mb} MB captured (${variant})`, m);
  else if (what === "followers") show("daemon RSS, 200 stalled followers", await stalledFollowersRss(200));
  else throw new Error(`unknown measurement ${what} (capture, profile, followers)`);
}
