// Resource use of programs and pids, sampled from /proc in one batched pass per tick.
//
// Why not pidusage: it keeps one open fd per tracked pid until its maxage (60 s), its clear()
// leaks those fds and {maxage: 0} leaks until EMFILE (see shared/TOOLCHAIN.md); at 1000
// watched processes the daemon's fd count would grow with the number of processes. It also
// reports a bogus 0% CPU on a first sample, and has no process tree. Here each tick is one
// pass of open-read-close reads (one readdir of /proc when trees are wanted), so the daemon
// holds no fd between ticks, and CPU % is only given over a real interval.
import { NotFoundError, WrongStateError } from "../errors.js";
import { CLOCK_TICKS_PER_SEC, countOpenFds, readProcSample, readProcessTable, startDate, uptimeSec, type ProcSample } from "../os/proc-sample.js";
import { RunCgroup } from "../os/cgroup.js";
import type { ManagedRun, RunLookup } from "./runs.js";

export type StatsTarget = { program: string } | { pid: number };

export interface ProcessStats {
  pid: number;
  ppid: number;
  name: string;
  state: string;
  /** Percent of one core over the last interval; undefined until a real interval exists. */
  cpuPercent?: number;
  cpuSeconds: number;
  rssBytes: number;
  vsizeBytes: number;
  threads: number;
  openFds?: number;
  startedAt: Date;
  uptimeMs: number;
  pidStartTicks: number;
}

export interface StatsSample {
  target: StatsTarget;
  program?: string;
  runId?: number;
  process?: ProcessStats;
  /** The tree summed (equal to process without children). */
  total?: ProcessStats;
  children: ProcessStats[];
  time: Date;
  /** The target could not be sampled (NotFoundError, WrongStateError). */
  error?: Error;
}

/** A process's CPU time at its last sample; kept by pid, valid only for the same start ticks. */
interface Previous {
  startTicks: number;
  cpuTicks: number;
  monoMs: number;
  uptimeSec: number;
}

/** Entries of processes not sampled for this long are forgotten. */
const FORGET_AFTER_MS = 120_000;

/**
 * Samples targets and remembers each process's CPU time (by pid + start ticks) for the next
 * pass: one sampler per consumer, so each one's CPU % covers its own interval.
 */
export class StatsSampler {
  private readonly previous = new Map<number, Previous>();
  /** The highest CPU seconds reported per run ("program:runId"), so the counter never goes down. */
  private readonly runCpu = new Map<string, { seconds: number; monoMs: number }>();
  private lastPruneMs = performance.now();

  constructor(private readonly runs: RunLookup) {}

  /** One batched pass over all targets; a target that cannot be sampled gets an error. */
  sample(targets: StatsTarget[], includeChildren: boolean): StatsSample[] {
    const time = new Date();
    const nowMs = performance.now();
    const upSec = uptimeSec();
    // One readdir + read of every stat when trees are wanted; otherwise only the targets'.
    const table = includeChildren ? readProcessTable() : undefined;
    const read = (pid: number) => (table ? table.get(pid) : readProcSample(pid));
    const children = table ? childrenIndex(table) : undefined;
    // Each run leads its own session and process group: runs by leader pid, made once per pass.
    let runsByPid: Map<number, ManagedRun> | undefined;
    const attribute = (proc: ProcSample) => {
      runsByPid ??= new Map(this.runs.liveRuns().map((run) => [run.pid, run]));
      return runsByPid.get(proc.session) ?? runsByPid.get(proc.pgrp);
    };

    const samples = targets.map((target): StatsSample => {
      let root: ProcSample | undefined;
      let run: ManagedRun | undefined;
      try {
        if ("program" in target) {
          run = this.runs.currentRun(target.program);
          root = read(run.pid);
          if (!root || root.startTicks !== run.pidStartTicks || root.state === "Z") {
            throw new WrongStateError(`program "${target.program}" is not running (its run ${run.runId}, pid ${run.pid}, has exited)`, "NOT_RUNNING", {
              subject: `program/${target.program}`,
            });
          }
        } else {
          root = read(target.pid);
          if (!root) throw new NotFoundError("process", String(target.pid));
          run = attribute(root);
        }
      } catch (error) {
        return { target, children: [], time, error: error as Error };
      }
      const rootPrev = this.previousOf(root);
      const rootStats = this.statsOf(root, nowMs, upSec, rootPrev);
      const members = children ? descendants(root.pid, children, table!) : [];
      const childStats = members.map((proc) => this.statsOf(proc, nowMs, upSec, rootPrev));
      const total = includeChildren ? sum(rootStats, childStats) : rootStats;
      if (includeChildren && run && "program" in target) total.cpuSeconds = this.runCpuSeconds(run, [root, ...members], nowMs);
      return {
        target,
        program: run?.program,
        runId: run?.runId,
        process: rootStats,
        total,
        children: childStats,
        time,
      };
    });
    this.remember(samples, nowMs, upSec);
    return samples;
  }

  /**
   * CPU seconds of a whole run, exited processes included: its cgroup's cpu.stat where it has one;
   * otherwise the live tree's own and waited-for children's time (utime + stime + cutime + cstime;
   * a child reaped by init instead is lost there). Never less than what was reported before.
   */
  private runCpuSeconds(run: ManagedRun, tree: ProcSample[], nowMs: number): number {
    const usageUsec = run.cgroupPath ? new RunCgroup(run.cgroupPath).cpuUsageUsec() : undefined;
    const treeTicks = tree.reduce((total, proc) => total + proc.cpuTicks + proc.childCpuTicks, 0);
    const seconds = usageUsec !== undefined ? usageUsec / 1e6 : treeTicks / CLOCK_TICKS_PER_SEC;
    const key = `${run.program}:${run.runId}`;
    const best = Math.max(seconds, this.runCpu.get(key)?.seconds ?? 0);
    this.runCpu.set(key, { seconds: best, monoMs: nowMs });
    return best;
  }

  private statsOf(proc: ProcSample, nowMs: number, upSec: number, rootPrev: Previous | undefined): ProcessStats {
    const startSec = proc.startTicks / CLOCK_TICKS_PER_SEC;
    const cpuSec = proc.cpuTicks / CLOCK_TICKS_PER_SEC;
    let cpuPercent: number | undefined;
    const prev = this.previousOf(proc);
    if (prev && nowMs > prev.monoMs) {
      cpuPercent = Math.max(0, ((proc.cpuTicks - prev.cpuTicks) / CLOCK_TICKS_PER_SEC / ((nowMs - prev.monoMs) / 1000)) * 100);
    } else if (!prev && rootPrev && startSec >= rootPrev.uptimeSec) {
      // Born since the root's last sample: all of its CPU time falls inside the interval.
      cpuPercent = (cpuSec / Math.max(upSec - startSec, 0.01)) * 100;
    }
    return {
      pid: proc.pid,
      ppid: proc.ppid,
      name: proc.comm,
      state: proc.state,
      cpuPercent,
      cpuSeconds: cpuSec,
      rssBytes: proc.rssBytes,
      vsizeBytes: proc.vsizeBytes,
      threads: proc.threads,
      openFds: countOpenFds(proc.pid),
      startedAt: startDate(proc.startTicks),
      uptimeMs: Math.max(0, (upSec - startSec) * 1000),
      pidStartTicks: proc.startTicks,
    };
  }

  private previousOf(proc: ProcSample): Previous | undefined {
    const prev = this.previous.get(proc.pid);
    return prev?.startTicks === proc.startTicks ? prev : undefined;
  }

  private remember(samples: StatsSample[], nowMs: number, upSec: number): void {
    const note = (stats: ProcessStats) => {
      const cpuTicks = Math.round(stats.cpuSeconds * CLOCK_TICKS_PER_SEC);
      const prev = this.previous.get(stats.pid);
      if (!prev) {
        this.previous.set(stats.pid, { startTicks: stats.pidStartTicks, cpuTicks, monoMs: nowMs, uptimeSec: upSec });
        return;
      }
      // Updated in place (a reused pid replaces its entry): a tick allocates nothing here.
      prev.startTicks = stats.pidStartTicks;
      prev.cpuTicks = cpuTicks;
      prev.monoMs = nowMs;
      prev.uptimeSec = upSec;
    };
    for (const sample of samples) {
      if (!sample.process) continue;
      note(sample.process);
      for (const child of sample.children) note(child);
    }
    if (nowMs - this.lastPruneMs > 10_000) {
      this.lastPruneMs = nowMs;
      // What this pass sampled has monoMs = nowMs, so it stays.
      for (const [pid, prev] of this.previous) if (nowMs - prev.monoMs > FORGET_AFTER_MS) this.previous.delete(pid);
      for (const [k, cpu] of this.runCpu) if (nowMs - cpu.monoMs > FORGET_AFTER_MS) this.runCpu.delete(k);
    }
  }

  /** Processes remembered for the next interval (for tests and the bench). */
  get remembered(): number {
    return this.previous.size;
  }
}

function childrenIndex(table: Map<number, ProcSample>): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (const proc of table.values()) {
    const list = index.get(proc.ppid);
    if (list) list.push(proc.pid);
    else index.set(proc.ppid, [proc.pid]);
  }
  return index;
}

/** Descendants of pid by parent links, parents before children. */
function descendants(pid: number, index: Map<number, number[]>, table: Map<number, ProcSample>): ProcSample[] {
  const out: ProcSample[] = [];
  const queue = [...(index.get(pid) ?? [])];
  for (let i = 0; i < queue.length; i++) {
    const proc = table.get(queue[i]);
    if (!proc) continue;
    out.push(proc);
    queue.push(...(index.get(proc.pid) ?? []));
  }
  return out;
}

function sum(root: ProcessStats, children: ProcessStats[]): ProcessStats {
  const total = { ...root };
  for (const child of children) {
    total.cpuPercent = total.cpuPercent === undefined || child.cpuPercent === undefined ? undefined : total.cpuPercent + child.cpuPercent;
    total.cpuSeconds += child.cpuSeconds;
    total.rssBytes += child.rssBytes;
    total.vsizeBytes += child.vsizeBytes;
    total.threads += child.threads;
    if (total.openFds !== undefined && child.openFds !== undefined) total.openFds += child.openFds;
  }
  return total;
}
