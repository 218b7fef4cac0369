// Reads what the monitor needs from /proc with plain synchronous reads that open and close each
// file at once: the daemon keeps no descriptor per watched process. Linux only, on purpose.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { listPids, splitStat } from "./proc.js";

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
  const bytes = Buffer.from(text, "latin1");
  return parseStatBytes(bytes, bytes.length);
}

/**
 * One reused buffer for /proc/PID/stat (a few hundred bytes; comm is at most 16): open, one
 * read and close, as readStatText in proc.ts, but parsed as bytes, so a stats pass over 1000
 * pids makes no line string and no 50 field strings per pid.
 */
const statBytes = Buffer.allocUnsafe(4096);
/** Fields 4-24 of the line being parsed (field N at N - 3; the state, field 3, is a letter). */
const statFields = new Float64Array(22);

/**
 * Parses a stat line: pid, "(comm)" (which may hold spaces and parentheses, so the fields start
 * after the last ")"), then space-separated fields, of which the numeric ones up to rss are read.
 */
function parseStatBytes(bytes: Buffer, length: number): ProcSample | undefined {
  const open = bytes.indexOf(40); // "("
  const close = length > 0 ? bytes.lastIndexOf(41, length - 1) : -1; // ")"
  if (open < 0 || close < open || close + 2 >= length) return undefined;
  let pid = 0;
  for (let i = 0; i < open; i++) if (bytes[i] >= 48 && bytes[i] <= 57) pid = pid * 10 + bytes[i] - 48;
  const state = String.fromCharCode(bytes[close + 2]);
  let at = close + 4;
  let field = 1;
  for (; field < statFields.length && at < length; field++) {
    const negative = bytes[at] === 45; // "-"
    if (negative) at++;
    let value = 0;
    for (let c = bytes[at]; c >= 48 && c <= 57; c = bytes[++at]) value = value * 10 + c - 48;
    statFields[field] = negative ? -value : value;
    at++; // the space
  }
  if (field < statFields.length) return undefined;
  const f = statFields;
  return {
    pid,
    comm: bytes.toString("latin1", open + 1, close),
    state,
    ppid: f[1],
    pgrp: f[2],
    session: f[3],
    cpuTicks: f[11] + f[12],
    childCpuTicks: f[13] + f[14],
    threads: f[17],
    startTicks: f[19],
    vsizeBytes: f[20],
    rssBytes: f[21] * pageSize(),
  };
}

/** One process's stat; undefined when it is gone (or /proc denies it). */
export function readProcSample(pid: number): ProcSample | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, "r");
  } catch {
    return undefined;
  }
  let length: number;
  try {
    length = readSync(fd, statBytes, 0, statBytes.length, null);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  // A line filling the buffer would be cut (never seen: the fields after comm are numbers).
  return length < statBytes.length ? parseStatBytes(statBytes, length) : undefined;
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
