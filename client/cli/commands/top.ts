// `corral top`: a live table of every program with its CPU and memory (the whole process tree),
// redrawn each interval until q or Ctrl-C. When stdout is not a terminal it prints one snapshot
// and exits, like `top -b -n 1`.
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ClientError, Status, type ProcessInfo, type StatsSample } from "../../ts/index.js";
import { parseDuration, parsing } from "../args.js";
import { isAbortError, quick, type CliContext } from "../context.js";
import { formatClock, formatTable, isAlive, stateName, uptimeMs } from "../format.js";
import { formatBytes } from "./monitor.js";

const DEFAULT_INTERVAL_MS = 2_000;
/** A program that stopped between listing and sampling makes WatchStats refuse; list again. */
const RETRIES = 5;

interface Frame {
  processes: ProcessInfo[];
  /** Samples of the live programs, by name. */
  samples: Map<string, StatsSample>;
}

function liveNames(processes: ProcessInfo[]): string[] {
  return processes.filter((p) => isAlive(p.state) && (p.run?.pid ?? 0) > 0).map((p) => p.name);
}

/** The table: live programs by CPU (highest first), then the others by name; a summary line first. */
export function formatTop(frame: Frame, address: string, now = new Date()): string {
  const cpu = (name: string) => frame.samples.get(name)?.total?.cpuPercent ?? frame.samples.get(name)?.process?.cpuPercent ?? -1;
  const sorted = [...frame.processes].sort((a, b) => cpu(b.name) - cpu(a.name) || a.name.localeCompare(b.name));
  let cpuSum = 0;
  let rssSum = 0;
  const rows = sorted.map((p) => {
    const sample = frame.samples.get(p.name);
    const total = sample?.total ?? sample?.process;
    if (!total || sample?.error) {
      return [
        p.name,
        stateName(p.state),
        isAlive(p.state) && p.run ? String(p.run.pid) : "-",
        "-",
        "-",
        "-",
        "-",
        "-",
        sample?.error ? sample.error : uptimeText(p),
      ];
    }
    cpuSum += total.cpuPercent ?? 0;
    rssSum += Number(total.rssBytes);
    return [
      p.name,
      stateName(p.state),
      String(total.pid || sample!.process?.pid || "-"),
      total.cpuPercent === undefined ? "?" : total.cpuPercent.toFixed(1),
      formatBytes(total.rssBytes),
      String(total.threads),
      total.openFds === undefined ? "-" : String(total.openFds),
      String(1 + (sample!.children?.length ?? 0)),
      uptimeText(p),
    ];
  });
  const running = liveNames(frame.processes).length;
  const summary =
    `corral top - ${now.toLocaleTimeString()} - ${address} - ${frame.processes.length} programs, ${running} running` +
    ` - CPU ${cpuSum.toFixed(1)}% - RSS ${formatBytes(rssSum)}\n\n`;
  return summary + formatTable(["NAME", "STATE", "PID", "CPU%", "RSS", "THR", "FDS", "PROCS", "UPTIME"], rows);
}

function uptimeText(p: ProcessInfo): string {
  const ms = uptimeMs(p);
  return ms === undefined ? "-" : formatClock(ms);
}

/**
 * Frames: the program list and one WatchStats tick per interval. The stream is reopened when
 * the set of running programs changes (a stopped program's samples would only carry an error).
 */
async function* frames(ctx: CliContext, intervalMs: number, signal: AbortSignal): AsyncGenerator<Frame> {
  let refused = 0;
  while (!signal.aborted) {
    let { processes } = await ctx.client.listProcesses({}, { ...quick(ctx), signal });
    const live = liveNames(processes);
    if (live.length === 0) {
      yield { processes, samples: new Map() };
      // Ctrl-C ends the wait early; the loop then sees the signal and stops.
      await sleep(intervalMs, undefined, { signal }).catch((error: unknown) => {
        if (!isAbortError(error)) throw error;
      });
      continue;
    }
    const stream = ctx.monitor.watchStats(
      { targets: live.map((name) => ({ target: { case: "program", value: name } })), includeChildren: true, interval: durationFromMs(intervalMs) },
      { signal },
    );
    try {
      for await (const tick of stream) {
        refused = 0;
        const samples = new Map(tick.samples.map((sample, i) => [live[i]!, sample]));
        yield { processes, samples };
        processes = (await ctx.client.listProcesses({}, { ...quick(ctx), signal })).processes;
        if (liveNames(processes).join("\n") !== live.join("\n")) break;
      }
    } catch (error) {
      const changed = error instanceof ClientError && (error.code === Status.FAILED_PRECONDITION || error.code === Status.NOT_FOUND);
      if (!changed || ++refused > RETRIES) throw error;
    }
  }
}

/** `corral top [--interval 2s] [--once]` */
export async function top(ctx: CliContext, args: string[]): Promise<number> {
  const { values } = parsing("top", () => parseArgs({ args, options: { interval: { type: "string" }, once: { type: "boolean" } } }));
  const intervalMs = values.interval === undefined ? DEFAULT_INTERVAL_MS : parseDuration(values.interval, "--interval", "top");
  const live = ctx.stdoutIsTTY && !values.once;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  ctx.signal.addEventListener("abort", onInterrupt, { once: true });
  // q (or Ctrl-C, which raw mode delivers as a key) quits; only a terminal gives keys.
  const releaseKeys = live ? ctx.onKey?.((key) => (key === "q" || key === "Q" || key === "\u0003") && stop.abort()) : undefined;
  if (live) ctx.out("\x1b[?25l"); // hide the cursor while redrawing
  try {
    for await (const frame of frames(ctx, intervalMs, stop.signal)) {
      if (!live) {
        ctx.out(formatTop(frame, ctx.address));
        return 0;
      }
      ctx.out(`\x1b[H\x1b[2J${formatTop(frame, ctx.address)}\nq: quit\n`);
    }
    return 0;
  } catch (error) {
    if (isAbortError(error) && stop.signal.aborted) return 0;
    throw error;
  } finally {
    stop.abort();
    releaseKeys?.();
    ctx.signal.removeEventListener("abort", onInterrupt);
    if (live) ctx.out("\x1b[?25h");
  }
}
