// PM2's max_memory_restart: the RSS of each run whose program sets max_memory is sampled (the
// whole process tree, one batched /proc pass per tick, stats.ts), and a run found above its limit
// is handed to onExceeded (which restarts it) once. It needs no cgroup controller. The timer runs
// only while such a run is live: update() arms it when a run starts (the daemon calls it on
// each processStarted event), and it disarms itself when none is left.
import { StatsSampler } from "./stats.js";
import type { RunLookup } from "./runs.js";

/** How often the RSS of runs with max_memory is sampled. */
export const MAX_MEMORY_INTERVAL_MS = 1_000;

export interface MaxMemoryTarget {
  program: string;
  maxMemoryBytes: number;
}

export interface MaxMemoryExceeded {
  program: string;
  runId: number;
  rssBytes: number;
  maxMemoryBytes: number;
}

export interface MaxMemoryWatchOptions {
  runs: RunLookup;
  /** The programs with max_memory set (read at each tick, so an applied config is seen). */
  targets: () => MaxMemoryTarget[];
  /** A run is over its limit: called once per run. */
  onExceeded: (exceeded: MaxMemoryExceeded) => void;
  intervalMs?: number;
}

export class MaxMemoryWatch {
  private readonly sampler: StatsSampler;
  private timer?: NodeJS.Timeout;
  /** Runs already handed to onExceeded ("program:runId"), so a slow restart is not asked twice; bounded by the live runs. */
  private readonly reported = new Set<string>();
  private stopped = false;

  constructor(private readonly options: MaxMemoryWatchOptions) {
    this.sampler = new StatsSampler(options.runs);
  }

  /** Arms the timer when a run of a program with max_memory is live (call when runs start). */
  update(): void {
    if (this.stopped || this.timer || this.liveTargets().length === 0) return;
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? MAX_MEMORY_INTERVAL_MS);
    this.timer.unref();
  }

  private liveTargets(): MaxMemoryTarget[] {
    const targets = this.options.targets();
    if (targets.length === 0) return [];
    const live = new Set(this.options.runs.liveRuns().map((run) => run.program));
    return targets.filter((target) => live.has(target.program));
  }

  /** One pass: every live run with max_memory, its tree's RSS against the limit. */
  check(): void {
    const targets = this.liveTargets();
    if (targets.length === 0) {
      this.disarm();
      this.reported.clear();
      return;
    }
    const limits = new Map(targets.map((target) => [target.program, target.maxMemoryBytes]));
    const samples = this.sampler.sample(
      targets.map((target) => ({ program: target.program })),
      true,
    );
    const current = new Set<string>();
    for (const sample of samples) {
      if (sample.error || !sample.total || sample.program === undefined || sample.runId === undefined) continue;
      const key = `${sample.program}:${sample.runId}`;
      current.add(key);
      const max = limits.get(sample.program);
      if (max === undefined || sample.total.rssBytes <= max || this.reported.has(key)) continue;
      this.reported.add(key);
      this.options.onExceeded({ program: sample.program, runId: sample.runId, rssBytes: sample.total.rssBytes, maxMemoryBytes: max });
    }
    for (const key of this.reported) if (!current.has(key)) this.reported.delete(key);
  }

  private disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }
}
