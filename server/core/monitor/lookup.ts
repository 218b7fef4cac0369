// Process lookup with CGSE's semantics (egse.process): a process matches when every item
// matches at least one argument of its command line, by substring (contains) or equality,
// case-insensitive unless asked; and the host's zombies, with whether the daemon is the parent.
import { InvalidArgumentError } from "../errors.js";
import { listPids } from "../os/proc.js";
import { readCmdline, readProcSample, readUid, startDate, type ProcSample } from "../os/proc-sample.js";
import type { ManagedRun, RunLookup } from "./runs.js";

export interface ProcessEntry {
  pid: number;
  ppid: number;
  name: string;
  cmdline: string[];
  createTime: Date;
  state: string;
  uid?: number;
  program?: string;
  runId?: number;
}

export interface ZombieEntry {
  pid: number;
  ppid: number;
  name: string;
  cmdline: string[];
  parentIsDaemon: boolean;
  program?: string;
}

export interface FindOptions {
  /** Substring match per argument (default true); false: equality. */
  contains?: boolean;
  /** Default false. */
  caseSensitive?: boolean;
}

/** Whether a command line matches every item (CGSE's is_process_running rule). */
export function matchesCmdline(cmdline: string[], items: string[], options: FindOptions = {}): boolean {
  const contains = options.contains ?? true;
  const fold = (s: string) => (options.caseSensitive ? s : s.toLowerCase());
  const args = cmdline.map(fold);
  return items.every((item) => {
    const wanted = fold(item);
    return args.some((arg) => (contains ? arg.includes(wanted) : arg === wanted));
  });
}

/** The managed run a process belongs to: every run is its own session and process group. */
function attribution(runs: ManagedRun[]): (proc: ProcSample) => ManagedRun | undefined {
  const byPid = new Map(runs.map((run) => [run.pid, run]));
  return (proc) => byPid.get(proc.session) ?? byPid.get(proc.pgrp);
}

export function findProcesses(items: string[], options: FindOptions, runs: RunLookup): ProcessEntry[] {
  if (items.length === 0) throw new InvalidArgumentError("items", items, "give at least one item to match");
  items.forEach((item, i) => {
    if (item === "") throw new InvalidArgumentError(`items[${i}]`, item, "must not be empty");
  });
  const runOf = attribution(runs.liveRuns());
  const found: ProcessEntry[] = [];
  for (const pid of listPids()) {
    const cmdline = readCmdline(pid);
    if (!cmdline || !matchesCmdline(cmdline, items, options)) continue;
    const proc = readProcSample(pid);
    if (!proc) continue;
    const run = runOf(proc);
    found.push({
      pid,
      ppid: proc.ppid,
      name: proc.comm,
      cmdline,
      createTime: startDate(proc.startTicks),
      state: proc.state,
      uid: readUid(pid),
      program: run?.program,
      runId: run?.runId,
    });
  }
  return found;
}

export function listZombies(runs: RunLookup, daemonPid = process.pid): ZombieEntry[] {
  const runOf = attribution(runs.liveRuns());
  const zombies: ZombieEntry[] = [];
  for (const pid of listPids()) {
    const proc = readProcSample(pid);
    if (proc?.state !== "Z") continue;
    zombies.push({
      pid,
      ppid: proc.ppid,
      name: proc.comm,
      cmdline: readCmdline(pid) ?? [],
      parentIsDaemon: proc.ppid === daemonPid,
      program: runOf(proc)?.program,
    });
  }
  return zombies;
}
