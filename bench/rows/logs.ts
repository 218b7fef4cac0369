// Rows for output: a line written by a child reaching a FollowLogs client (p99; the limit is the
// same child appending to a file that a bare grpc-js server follows with fs.watch and streams to
// a grpc-js client, bench/limit/grpc-server.ts; the child's stdout piped straight to the client
// is shown too), and N MB of stdout captured by corral against the
// same writer spawned by bare node into an O_APPEND file (bytes counted checked equal to written).
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ProcessState, StartWait } from "../../client/ts/index.js";
import { repoRoot, type TestDaemon } from "../../test/helpers/daemon.js";
import { sleep } from "../../test/helpers/wait.js";
import type { BenchContext } from "../lib/context.js";
import { quantile } from "../quantile.js";
import { median } from "../lib/proc.js";
import type { LimitGrpc } from "../lib/limit-grpc.js";
import { atMost, ratioAtMost, type BenchRow } from "../lib/row.js";
import { wallMs } from "../limit/grpc-service.js";
import { stalledFollowersRss } from "../logs-rows.js";
import { limitGrpc } from "./api.js";
import { daemonCpuMs } from "./log-rotation.js";

const lineWriter = fileURLToPath(new URL("../limit/line-writer.js", import.meta.url));
const recordWriter = join(repoRoot, "dist/test/fixtures/log-writer.js");
const MB = 1024 * 1024;
const LINES = 150;
const LINE_INTERVAL_MS = 10;
/** The first lines of a run are dropped: they may be written before the follow is in place. */
const SKIP_LINES = 10;

function logsDaemon(ctx: BenchContext): Promise<TestDaemon> {
  const once = { autostart: false, autorestart: "never", startsecs: 0 };
  return ctx.daemon("logs", {
    liner: { command: [process.execPath, lineWriter, String(LINES), String(LINE_INTERVAL_MS)], ...once },
    w200: { command: [process.execPath, recordWriter, "records", String(200 * MB)], ...once },
    // The same with rotation off: what capturing costs apart from rotating (detail column).
    w200flat: { command: [process.execPath, recordWriter, "records", String(200 * MB)], ...once, log: { max_bytes: 0, backups: 0 } },
    // A writer at memory speed (no work per byte): what is left is corral's own cost (detail column).
    w200dd: { command: ddCommand, ...once },
  });
}

/** Latencies of the lines of one run, from stamps in the text received. */
function collect(latencies: number[], state: { rest: string; lines: number }, text: string): void {
  const received = wallMs();
  const parts = (state.rest + text).split("\n");
  state.rest = parts.pop()!;
  for (const part of parts) if (state.lines++ >= SKIP_LINES) latencies.push(received - Number(part));
}

async function corralFollow(daemon: TestDaemon, latencies: number[]): Promise<void> {
  const abort = new AbortController();
  const state = { rest: "", lines: 0 };
  const pm = daemon.client.processManager;
  const follow = (async () => {
    try {
      for await (const response of pm.followLogs({ name: "liner" }, { signal: abort.signal })) {
        collect(latencies, state, Buffer.from(response.chunk!.data).toString("latin1"));
        if (state.lines >= LINES) break;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  await sleep(200); // the follow's open; the skipped lines cover the rest
  await pm.startProcess({ name: "liner", wait: StartWait.RUNNING });
  await follow;
  abort.abort();
  while ((await pm.getProcess({ name: "liner" })).process?.state !== ProcessState.EXITED) await sleep(10);
}

async function pipeFollow(latencies: number[]): Promise<void> {
  const state = { rest: "", lines: 0 };
  const child = spawn(process.execPath, [lineWriter, String(LINES), String(LINE_INTERVAL_MS)], { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout!.on("data", (data: Buffer) => collect(latencies, state, data.toString("latin1")));
  await new Promise((resolve) => child.once("close", resolve));
}

/** The same writer appending to a file that the bare grpc-js limit follows (fs.watch) and streams here. */
async function grpcFollow(server: LimitGrpc, latencies: number[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "corral-bench-follow-"));
  const path = join(dir, "out.log");
  const fd = openSync(path, "a");
  const state = { rest: "", lines: 0 };
  const call = server.client().follow(Buffer.from(path));
  try {
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (data: Buffer) => {
        collect(latencies, state, data.toString("latin1"));
        if (state.lines >= LINES) resolve();
      });
      call.on("error", (error: Error) => (state.lines >= LINES ? resolve() : reject(error)));
    });
    await sleep(200); // the follow's open, as corralFollow
    const child = spawn(process.execPath, [lineWriter, String(LINES), String(LINE_INTERVAL_MS)], { stdio: ["ignore", fd, "inherit"] });
    await Promise.all([done, new Promise((resolve) => child.once("exit", resolve))]);
  } finally {
    call.cancel();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const followRow: BenchRow = {
  name: "child writes a line → FollowLogs client, p99",
  baseline: "bare grpc-js follower of the file",
  goal: atMost(2, "ms"),
  async measure(ctx) {
    const daemon = await logsDaemon(ctx);
    const server = await limitGrpc(ctx);
    const reps = ctx.pick(3, 1);
    ctx.progress(`FollowLogs latency, ${reps}× ${LINES} lines`);
    const corral: number[] = [];
    const limit: number[] = [];
    const pipe: number[] = [];
    for (let r = 0; r < reps; r++) {
      await corralFollow(daemon, corral);
      await grpcFollow(server, limit);
      await pipeFollow(pipe);
    }
    const p = (values: number[], q: number) => quantile(values, q).toFixed(2);
    return {
      corral: quantile(corral, 0.99),
      baseline: quantile(limit, 0.99),
      unit: "ms",
      detail: `${corral.length} lines; p50 ${p(corral, 0.5)} vs ${p(limit, 0.5)} ms; a pipe to the client: p50 ${p(pipe, 0.5)}, p99 ${p(pipe, 0.99)} ms`,
    };
  },
};

/** 200 MiB of zeros in 64 KiB writes, as fast as the kernel takes them. */
const ddCommand = ["dd", "if=/dev/zero", "bs=64K", `count=${(200 * MB) / (64 * 1024)}`, "status=none"];

export async function bareCapture(bytes: number, command = [process.execPath, recordWriter, "records", String(bytes)]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "corral-bench-logs-"));
  const fd = openSync(join(dir, "out.log"), "a");
  try {
    const t0 = performance.now();
    const child = spawn(command[0], command.slice(1), { stdio: ["ignore", fd, fd], detached: true });
    await new Promise<void>((resolve, reject) => child.once("exit", () => resolve()).once("error", reject));
    const elapsed = performance.now() - t0;
    if (statSync(join(dir, "out.log")).size !== bytes) throw new Error("bare run: wrong size");
    return elapsed;
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function corralCapture(daemon: TestDaemon, name: string, bytes: number): Promise<number> {
  const pm = daemon.client.processManager;
  const before = (await pm.readLogs({ name, offset: 0n, maxBytes: 1 })).endOffset;
  const t0 = performance.now();
  const started = await pm.startProcess({ name, wait: StartWait.RUNNING });
  const runId = started.process?.run?.runId ?? 0n;
  // The run's exit from the event journal (replayed, so an exit before the watch opens counts):
  // one idle stream, where polling GetProcess every 2 ms cost the daemon ~1 s of CPU per 200 MB,
  // taken from the writer (the bench measuring itself).
  const abort = new AbortController();
  try {
    for await (const item of pm.watchEvents({ programs: [name] }, { signal: abort.signal })) {
      if (item.kind.case === "event" && item.kind.value.runId === runId && item.kind.value.detail.case === "processExited") break;
    }
  } finally {
    abort.abort();
  }
  const elapsed = performance.now() - t0;
  const counted = (await pm.readLogs({ name, offset: 0n, maxBytes: 1 })).endOffset - before;
  if (counted !== BigInt(bytes)) throw new Error(`${name}: ${counted} bytes counted, ${bytes} written`);
  return elapsed;
}

export const captureRow: BenchRow = {
  name: "200 MB of stdout captured",
  baseline: "the child writes its own file",
  goal: ratioAtMost(1.05),
  async measure(ctx) {
    const daemon = await logsDaemon(ctx);
    const reps = ctx.pick(3, 1);
    ctx.progress(`200 MB capture ×${reps}`);
    const corral: number[] = [];
    const bare: number[] = [];
    // The daemon's CPU per capture (with its helper's): what it takes from the cores the writer
    // runs on, and a figure that load on a shared machine moves less than the wall clock.
    const cpu: number[] = [];
    const flat: number[] = [];
    const dd: number[] = [];
    const bareDd: number[] = [];
    for (let r = 0; r < reps; r++) {
      bareDd.push(await bareCapture(200 * MB, ddCommand));
      dd.push(await corralCapture(daemon, "w200dd", 200 * MB));
      bare.push(await bareCapture(200 * MB));
      const cpu0 = daemonCpuMs(daemon.pid, false); // the writer, reaped, is not the daemon's CPU
      corral.push(await corralCapture(daemon, "w200", 200 * MB));
      cpu.push(daemonCpuMs(daemon.pid, false) - cpu0);
      flat.push(await corralCapture(daemon, "w200flat", 200 * MB));
    }
    return {
      corral: median(corral),
      baseline: median(bare),
      unit: "ms",
      detail:
        `median of ${reps}, rotated at 10 MiB; bytes counted = written; daemon CPU per capture ${median(cpu).toFixed(0)} ms; ` +
        `rotation off ${median(flat).toFixed(0)} ms (${(median(flat) / median(bare)).toFixed(2)}×); ` +
        `a writer at memory speed (dd): ${median(dd).toFixed(0)} vs ${median(bareDd).toFixed(0)} ms (${(median(dd) / median(bareDd)).toFixed(2)}×)`,
    };
  },
};

export const stalledFollowersRow: BenchRow = {
  name: "daemon RSS with 200 stalled FollowLogs streams",
  baseline: "the daemon's RSS before they opened",
  goal: atMost(300, "MB"),
  async measure(ctx) {
    ctx.progress("200 stalled followers while the program writes 40 MB");
    return stalledFollowersRss(200);
  },
};
