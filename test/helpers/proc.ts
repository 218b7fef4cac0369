// /proc readers for tests and benches: is a process still there, its group, memory, fds, CPU.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** The fields of /proc/PID/stat that tests look at; undefined once the process is gone. */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: the fields after it start at the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** Whether pid is a live process (a zombie counts as gone: it runs nothing and holds nothing). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Live pids whose process group is pgid (each run is its own group, led by its first pid). */
export function processGroupMembers(pgid: number): number[] {
  return allPids().filter((pid) => {
    const stat = readStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== "Z";
  });
}

/** Zombie processes whose parent is ppid. */
export function zombieChildrenOf(ppid: number): number[] {
  return allPids().filter((pid) => {
    const stat = readStat(pid);
    return stat !== undefined && stat.state === "Z" && stat.ppid === ppid;
  });
}

/** Resident memory of a process, in bytes (VmRSS of /proc/PID/status). */
export function residentBytes(pid: number | "self" = "self"): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

export function openFdCount(pid: number | "self" = "self"): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Live processes whose initial environment holds NAME=value (read from /proc/PID/environ), with their argv. */
export function processesWithEnv(name: string, value: string): { pid: number; argv: string[] }[] {
  const wanted = `${name}=${value}`;
  const found: { pid: number; argv: string[] }[] = [];
  for (const pid of allPids()) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(wanted) || !isAlive(pid)) continue;
      found.push({ pid, argv: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean) });
    } catch {
      // gone meanwhile, or not readable
    }
  }
  return found;
}
