// `corral top`: a live table of every program with its CPU and memory (the whole process tree),
// redrawn each interval until q or Ctrl-C. When stdout is not a terminal it prints one snapshot
// and exits, like `top -b -n 1`. Rows keep one order from frame to frame (--sort name, the
// default; cpu and mem sort highest first, the name breaking ties), and every line is cut to the
// terminal's width, never wrapped. --json: one JSON array of rows per frame.
import { setTimeout as sleep } from "node:timers/promises";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ClientError, Status, type ProcessInfo, type StatsSample } from "../../ts/index.js";
import { parseCommand, parseDuration } from "../args.js";
import { isAbortError, quick, type CliContext } from "../context.js";
import { formatClock, formatTable, isAlive, stateName, uptimeMs } from "../format.js";
import { jsonOut, type Json } from "../json.js";
import { TOP_SORT_KEYS } from "../spec.js";
import { didYouMean } from "../suggest.js";
import { UsageError } from "../usage.js";
import { formatBytes } from "./monitor.js";

export type TopSort = (typeof TOP_SORT_KEYS)[number];

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

function isSortKey(word: string): word is TopSort {
  return (TOP_SORT_KEYS as readonly string[]).includes(word);
}

/** One program's row: what the table shows and what --json prints. */
export interface TopRow {
  name: string;
  state: string;
  pid: number | null;
  cpuPercent: number | null;
  rssBytes: number | null;
  threads: number | null;
  openFds: number | null;
  processes: number | null;
  uptimeSeconds: number | null;
  error: string | null;
}

export function topRows(frame: Frame, sort: TopSort = "name"): TopRow[] {
  const rows = frame.processes.map((p): TopRow => {
    const sample = frame.samples.get(p.name);
    const total = sample?.error ? undefined : (sample?.total ?? sample?.process);
    const uptime = uptimeMs(p);
    return {
      name: p.name,
      state: stateName(p.state),
      pid: total?.pid || sample?.process?.pid || (isAlive(p.state) && p.run ? p.run.pid : 0) || null,
      cpuPercent: total?.cpuPercent ?? null,
      rssBytes: total ? Number(total.rssBytes) : null,
      threads: total ? total.threads : null,
      openFds: total?.openFds ?? null,
      processes: total ? 1 + (sample?.children?.length ?? 0) : null,
      uptimeSeconds: uptime === undefined ? null : Math.floor(uptime / 1000),
      error: sample?.error || null,
    };
  });
  // The name orders ties (and everything under --sort name), so rows never swap places between frames.
  const byName = (a: TopRow, b: TopRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const key = sort === "cpu" ? (r: TopRow) => r.cpuPercent ?? -1 : sort === "mem" ? (r: TopRow) => r.rssBytes ?? -1 : undefined;
  return rows.sort((a, b) => (key ? key(b) - key(a) : 0) || byName(a, b));
}

/** Every line cut to `columns` characters (the terminal's width): a long row never wraps onto the next. */
export function fitWidth(text: string, columns: number | undefined): string {
  if (columns === undefined || columns <= 0) return text;
  return text
    .split("\n")
    .map((line) => (line.length > columns ? `${line.slice(0, Math.max(0, columns - 1))}…` : line))
    .join("\n");
}

/** The table in `sort` order, a summary line first, every line at most `columns` wide. */
export function formatTop(frame: Frame, address: string, options: { now?: Date; sort?: TopSort; columns?: number } = {}): string {
  const now = options.now ?? new Date();
  let cpuSum = 0;
  let rssSum = 0;
  const rows = topRows(frame, options.sort).map((row) => {
    const uptime = row.uptimeSeconds === null ? "-" : formatClock(row.uptimeSeconds * 1000);
    const pid = row.pid === null ? "-" : String(row.pid);
    if (row.rssBytes === null) return [row.name, row.state, pid, "-", "-", "-", "-", "-", row.error ?? uptime];
    cpuSum += row.cpuPercent ?? 0;
    rssSum += row.rssBytes;
    return [
      row.name,
      row.state,
      pid,
      row.cpuPercent === null ? "?" : row.cpuPercent.toFixed(1),
      formatBytes(row.rssBytes),
      String(row.threads ?? "-"),
      row.openFds === null ? "-" : String(row.openFds),
      String(row.processes ?? "-"),
      uptime,
    ];
  });
  const running = liveNames(frame.processes).length;
  const summary =
    `corral top - ${now.toLocaleTimeString()} - ${address} - ${frame.processes.length} programs, ${running} running` +
    ` - CPU ${cpuSum.toFixed(1)}% - RSS ${formatBytes(rssSum)}\n\n`;
  return fitWidth(summary + formatTable(["NAME", "STATE", "PID", "CPU%", "RSS", "THR", "FDS", "PROCS", "UPTIME"], rows), options.columns);
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

/** `corral top [--interval 2s] [--once] [--sort name|cpu|mem] [--json]` */
export async function top(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("top", args);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "top");
  const intervalMs = values.interval === undefined ? DEFAULT_INTERVAL_MS : parseDuration(values.interval, "--interval", "top");
  const sort = values.sort ?? "name";
  if (!isSortKey(sort)) throw new UsageError(`--sort: "${sort}" is not one of ${TOP_SORT_KEYS.join(", ")}${didYouMean(sort, TOP_SORT_KEYS)}`, "top");
  const json = values.json === true;
  const live = ctx.stdoutIsTTY === true && !values.once && !json;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  ctx.signal.addEventListener("abort", onInterrupt, { once: true });
  // q (or Ctrl-C, which raw mode delivers as a key) quits; only a terminal gives keys.
  const releaseKeys = live ? ctx.onKey?.((key) => (key === "q" || key === "Q" || key === "\u0003") && stop.abort()) : undefined;
  if (live) ctx.out("\x1b[?25l\x1b[2J"); // hide the cursor while redrawing; clear once
  try {
    for await (const frame of frames(ctx, intervalMs, stop.signal)) {
      if (json) {
        ctx.out(jsonOut(topRows(frame, sort).map((row) => ({ ...row }) satisfies Record<string, Json>)));
        if (values.once || ctx.stdoutIsTTY !== true) return 0;
        continue;
      }
      if (!live) {
        ctx.out(formatTop(frame, ctx.address, { sort, columns: ctx.columns?.() }));
        return 0;
      }
      // Home, then each line erased to its end and the rest of the screen below: no flicker, and
      // a shorter frame leaves nothing of the last one.
      const text = `${formatTop(frame, ctx.address, { sort, columns: ctx.columns?.() })}\nq: quit`;
      ctx.out(`\x1b[H${text.split("\n").join("\x1b[K\n")}\x1b[K\x1b[J`);
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
