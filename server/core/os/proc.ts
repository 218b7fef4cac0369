// Reads process facts from /proc: a process's identity (pid + start time in clock ticks), its
// group and session, and the members of a process group. Linux only, on purpose.
import { closeSync, openSync, readdirSync, readSync } from "node:fs";

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Start time after boot, in clock ticks (field 22). */
  startTicks: number;
}

/**
 * Splits /proc/PID/stat into pid, comm and the fields after comm; comm may contain spaces and
 * parentheses, so the fields start after the last ")". fields[0] is field 3 (state): field N is
 * fields[N - 3].
 */
export function splitStat(text: string): { pid: number; comm: string; fields: string[] } | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < 0) return undefined;
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), fields: text.slice(close + 2).split(" ") };
}

export function parseStat(text: string): ProcStat | undefined {
  const split = splitStat(text);
  if (!split) return undefined;
  const f = split.fields;
  return { pid: split.pid, comm: split.comm, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), startTicks: Number(f[19]) };
}

/**
 * One reused buffer for /proc/PID/stat. The kernel renders the whole line on the first read
 * (a stat line is a few hundred bytes; comm is at most 16), so open + one read + close does
 * what readFileSync does in five calls (open, fstat, read, read to EOF, close): /proc passes
 * over every pid (group stops, stats ticks) are mostly this syscall cost.
 */
const statBuffer = Buffer.allocUnsafe(4096);

/** The text of /proc/PID/stat; undefined when the process is gone (or /proc denies it). */
export function readStatText(pid: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, "r");
  } catch {
    return undefined;
  }
  try {
    let length = readSync(fd, statBuffer, 0, statBuffer.length, null);
    if (length < statBuffer.length) return statBuffer.toString("latin1", 0, length);
    // Longer than the buffer (never seen): read the rest as well.
    const parts = [Buffer.from(statBuffer)];
    for (let chunk = Buffer.allocUnsafe(4096); (length = readSync(fd, chunk, 0, chunk.length, null)) > 0; chunk = Buffer.allocUnsafe(4096))
      parts.push(chunk.subarray(0, length));
    return Buffer.concat(parts).toString("latin1");
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function readStat(pid: number): ProcStat | undefined {
  const text = readStatText(pid);
  return text === undefined ? undefined : parseStat(text);
}

/** True when pid is alive (not a zombie) and is the very process that started at startTicks. */
export function isSameProcess(pid: number, startTicks: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.startTicks === startTicks && stat.state !== "Z";
}

/** Every pid in /proc right now. */
export function listPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const c = entry.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(entry));
  }
  return pids;
}

/** Pids of live (non-zombie) processes whose process group is pgid. */
export function groupMembers(pgid: number): number[] {
  return liveMembersOfGroups(new Set([pgid])).get(pgid) ?? [];
}

/** One pass over /proc: the live (non-zombie) members of each group in pgids. */
export function liveMembersOfGroups(pgids: ReadonlySet<number>): Map<number, number[]> {
  const byGroup = new Map<number, number[]>();
  let pids: number[];
  try {
    pids = listPids();
  } catch {
    return byGroup;
  }
  for (const pid of pids) {
    const stat = readStat(pid);
    if (!stat || stat.state === "Z" || !pgids.has(stat.pgrp)) continue;
    const members = byGroup.get(stat.pgrp);
    if (members) members.push(stat.pid);
    else byGroup.set(stat.pgrp, [stat.pid]);
  }
  return byGroup;
}

/** Sends signal to every process in group pgid; a group already gone (ESRCH) is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

/**
 * Whether any process is still in group pgid, asked of the kernel with signal 0 (cheap: no
 * /proc scan). Zombies count until reaped, which is what keeps the group id from being reused.
 */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
