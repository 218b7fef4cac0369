// Reads what the monitor needs from /proc with plain synchronous reads that open and close each
// file at once: the daemon keeps no descriptor per watched process. Linux only, on purpose.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { listPids, readStatText, splitStat } from "./proc.js";

/**
 * USER_HZ: the unit of the tick counts in /proc/PID/stat. The kernel fixes it at 100 for user
 * space on every architecture Node runs on, so it is not asked of getconf (a spawn).
 */
export const CLOCK_TICKS_PER_SEC = 100;

/** One process as read from /proc/PID/stat. */
export interface ProcSample {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** cutime + cstime: CPU of the children it waited for (exited ones), in clock ticks. */
  childCpuTicks: number;
  threads: number;
  /** Start time after boot, in clock ticks (field 22). */
  startTicks: number;
  vsizeBytes: number;
  rssBytes: number;
}

let pageSizeCache: number | undefined;
/**
 * The page size (rss in /proc/PID/stat counts pages), without spawning getconf: our own
 * virtual size in bytes (stat) divided by the same in pages (statm), rounded to a power of 2.
 */
export function pageSize(): number {
  if (pageSizeCache !== undefined) return pageSizeCache;
  try {
    const vsize = Number(splitStat(readFileSync("/proc/self/stat", "latin1"))?.fields[20]);
    const pages = Number(readFileSync("/proc/self/statm", "latin1").split(" ")[0]);
    const ratio = vsize / pages;
    pageSizeCache = Number.isFinite(ratio) && ratio > 0 ? 2 ** Math.round(Math.log2(ratio)) : 4096;
  } catch {
    pageSizeCache = 4096;
  }
  return pageSizeCache;
}

let bootTimeCache: number | undefined;
/** Boot time in ms since the epoch (btime of /proc/stat), to turn start ticks into dates. */
export function bootTimeMs(): number {
  if (bootTimeCache !== undefined) return bootTimeCache;
  const match = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "latin1"));
  bootTimeCache = match ? Number(match[1]) * 1000 : Date.now() - uptimeSec() * 1000;
  return bootTimeCache;
}

/** Seconds since boot (/proc/uptime): the clock process start times are measured on. */
export function uptimeSec(): number {
  return Number(readFileSync("/proc/uptime", "latin1").split(" ")[0]);
}

/** Parses /proc/PID/stat: the fields proc.ts reads, plus cpu, threads and memory. */
export function parseProcStat(text: string): ProcSample | undefined {
  const split = splitStat(text);
  if (!split) return undefined;
  const f = split.fields;
  return {
    pid: split.pid,
    comm: split.comm,
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    childCpuTicks: Number(f[13]) + Number(f[14]),
    threads: Number(f[17]),
    startTicks: Number(f[19]),
    vsizeBytes: Number(f[20]),
    rssBytes: Number(f[21]) * pageSize(),
  };
}

export function readProcSample(pid: number): ProcSample | undefined {
  const text = readStatText(pid);
  return text === undefined ? undefined : parseProcStat(text);
}

/** One pass over /proc: every process's stat (processes that vanish meanwhile are skipped). */
export function readProcessTable(): Map<number, ProcSample> {
  const table = new Map<number, ProcSample>();
  for (const pid of listPids()) {
    const sample = readProcSample(pid);
    if (sample) table.set(pid, sample);
  }
  return table;
}

/**
 * Whether stat(2) of /proc/PID/fd gives the number of open fds as its size (Linux 6.2 and
 * later): one call instead of listing the directory, which for 1000 pids was a fifth of a
 * stats tick. Asked once, of our own fd directory (never empty: stdio are open).
 */
let fdDirSizeCounts: boolean | undefined;
const euid = process.geteuid?.() ?? -1;

/** Open file descriptors of pid; undefined if not allowed. */
export function countOpenFds(pid: number): number | undefined {
  try {
    fdDirSizeCounts ??= statSync("/proc/self/fd").size > 0;
    if (fdDirSizeCounts) {
      // Only where listing would be allowed: the directory is 0500 and owned by the process's
      // user (root for a non-dumpable one), which is what the kernel checks for a listing.
      const dir = statSync(`/proc/${pid}/fd`);
      return euid === 0 || dir.uid === euid ? dir.size : undefined;
    }
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** argv of pid; empty for kernel threads and zombies, undefined when the process is gone. */
export function readCmdline(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
  if (text === "") return [];
  const args = text.split("\0");
  if (args[args.length - 1] === "") args.pop();
  return args;
}

/** The real uid owning pid (owner of /proc/PID). */
export function readUid(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

/** The start of a process as a date, from its start ticks. */
export function startDate(startTicks: number): Date {
  return new Date(bootTimeMs() + (startTicks * 1000) / CLOCK_TICKS_PER_SEC);
}
