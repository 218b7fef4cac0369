// ProcessMonitor: stats of programs and pids, process lookup, zombies and monitored runs.
// No gRPC here; the daemon passes in a RunLookup built from its ProcessManager.
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { sleep } from "../os/abort.js";
import { parseSignal } from "../os/signals.js";
import { findProcesses, listZombies, type FindOptions, type ProcessEntry, type ZombieEntry } from "./lookup.js";
import { MonitoredRun, type MonitoredEvent, type MonitoredRunSpec } from "./monitored-run.js";
import type { RunLookup } from "./runs.js";
import { StatsSampler, type StatsSample, type StatsTarget } from "./stats.js";

export interface ProcessMonitorOptions {
  runs: RunLookup;
  /** Default working directory of monitored runs. */
  home: string;
}

export interface GetStatsOptions {
  includeChildren?: boolean;
  /** Sample twice this far apart so CPU % is known (0: once). */
  intervalMs?: number;
  signal?: AbortSignal;
}

export interface WatchStatsOptions {
  includeChildren?: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
}

/** A monitored run as asked for; unset fields get Launchpad's defaults. */
export interface MonitoredRunRequest {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  inactivityTimeoutMs?: number;
  totalTimeoutMs?: number;
  killSignal?: string;
  killGraceMs?: number;
  progressPattern?: string;
  signal?: AbortSignal;
}

export const DEFAULT_WATCH_INTERVAL_MS = 1000;
export const MIN_WATCH_INTERVAL_MS = 100;
export const MAX_GET_INTERVAL_MS = 10_000;
export const DEFAULT_KILL_GRACE_MS = 5000;

export class ProcessMonitor {
  private readonly runs: RunLookup;
  private readonly home: string;
  /** GetStats' memory of CPU times, so a second GetStats knows the CPU % since the first. */
  private readonly shared: StatsSampler;
  private readonly monitored = new Map<number, MonitoredRun>();
  // Seeded with the clock, so ids of a restarted daemon do not meet those of the last one.
  private nextRunId = Date.now();

  constructor(options: ProcessMonitorOptions) {
    this.runs = options.runs;
    this.home = options.home;
    this.shared = new StatsSampler(options.runs);
  }

  async getStats(target: StatsTarget, options: GetStatsOptions = {}): Promise<StatsSample> {
    validateTarget(target, "target");
    const intervalMs = options.intervalMs ?? 0;
    if (!Number.isFinite(intervalMs) || intervalMs < 0 || intervalMs > MAX_GET_INTERVAL_MS) {
      throw new InvalidArgumentError("interval", intervalMs, `must be between 0 and ${MAX_GET_INTERVAL_MS} ms`);
    }
    const includeChildren = options.includeChildren ?? false;
    let [sample] = this.shared.sample([target], includeChildren);
    if (sample.error) throw sample.error;
    if (intervalMs > 0) {
      await sleep(intervalMs, options.signal);
      [sample] = this.shared.sample([target], includeChildren);
      if (sample.error) throw sample.error;
    }
    return sample;
  }

  /**
   * One tick per interval, every target sampled in the same pass. The first pass (a baseline,
   * not sent) checks the targets, so a wrong one fails the call; later, a target that cannot
   * be sampled gets an error in its sample and the stream goes on.
   */
  async *watchStats(targets: StatsTarget[], options: WatchStatsOptions = {}): AsyncGenerator<StatsSample[]> {
    if (targets.length === 0) throw new InvalidArgumentError("targets", targets, "give at least one target");
    targets.forEach((target, i) => validateTarget(target, `targets[${i}]`));
    const intervalMs = options.intervalMs || DEFAULT_WATCH_INTERVAL_MS;
    if (!Number.isFinite(intervalMs) || intervalMs < MIN_WATCH_INTERVAL_MS) {
      throw new InvalidArgumentError("interval", intervalMs, `must be at least ${MIN_WATCH_INTERVAL_MS} ms`);
    }
    const includeChildren = options.includeChildren ?? false;
    const sampler = new StatsSampler(this.runs);
    const baseline = sampler.sample(targets, includeChildren);
    const failed = baseline.find((sample) => sample.error);
    if (failed?.error) throw failed.error;
    // Ticks are planned from the start, so a slow consumer or pass does not make them drift.
    let due = performance.now();
    while (!options.signal?.aborted) {
      due += intervalMs;
      const now = performance.now();
      if (due < now) due = now + intervalMs - ((now - due) % intervalMs);
      await sleep(due - now, options.signal);
      yield sampler.sample(targets, includeChildren);
    }
  }

  findProcesses(items: string[], options: FindOptions = {}): ProcessEntry[] {
    return findProcesses(items, options, this.runs);
  }

  listZombies(): ZombieEntry[] {
    return listZombies(this.runs);
  }

  /** Starts a monitored run and streams its notifications; stopping the iteration kills it. */
  runMonitored(request: MonitoredRunRequest): AsyncGenerator<MonitoredEvent> {
    const spec = this.specOf(request);
    const run = new MonitoredRun(this.nextRunId++, spec);
    this.monitored.set(run.runId, run);
    void run.finished.then(() => this.monitored.delete(run.runId));
    run.start();
    return run.events(request.signal);
  }

  reportProgress(runId: number, message: string): void {
    const run = this.monitored.get(runId);
    if (!run || run.done) throw new NotFoundError("monitored run", String(runId));
    run.reportProgress(message);
  }

  /** Fails a monitored run with a client's reason (first failure wins). */
  failMonitored(runId: number, reason: string): void {
    const run = this.monitored.get(runId);
    if (!run || run.done) throw new NotFoundError("monitored run", String(runId));
    run.failByClient(reason);
  }

  /** Kills every monitored run (two-stage) and waits for them to end. */
  async shutdown(): Promise<void> {
    const runs = [...this.monitored.values()];
    for (const run of runs) run.cancel();
    await Promise.all(runs.map((run) => run.finished));
  }

  private specOf(request: MonitoredRunRequest): MonitoredRunSpec {
    if (!request.command) throw new InvalidArgumentError("command", request.command, "must not be empty");
    const duration = (field: string, value: number | undefined, fallback: number) => {
      if (value === undefined) return fallback;
      if (!Number.isFinite(value) || value < 0 || value > 2 ** 31 - 1) throw new InvalidArgumentError(field, value, "must be a duration between 0 and 596h");
      return value;
    };
    let progressPattern: RegExp | undefined;
    if (request.progressPattern) {
      try {
        progressPattern = new RegExp(request.progressPattern);
      } catch (error) {
        throw new InvalidArgumentError("progress_pattern", request.progressPattern, `not a valid regular expression: ${(error as Error).message}`);
      }
    }
    const cwd = request.cwd || this.home;
    if (!cwd.startsWith("/")) throw new InvalidArgumentError("cwd", cwd, "must be an absolute path");
    return {
      command: request.command,
      args: request.args ?? [],
      env: request.env ?? {},
      cwd,
      inactivityTimeoutMs: duration("inactivity_timeout", request.inactivityTimeoutMs, 0),
      totalTimeoutMs: duration("total_timeout", request.totalTimeoutMs, 0),
      killSignal: request.killSignal ? parseSignal(request.killSignal, "kill_signal") : "SIGINT",
      killGraceMs: duration("kill_grace", request.killGraceMs, DEFAULT_KILL_GRACE_MS),
      progressPattern,
    };
  }
}

function validateTarget(target: StatsTarget, field: string): void {
  if ("pid" in target) {
    if (!Number.isInteger(target.pid) || target.pid <= 0) throw new InvalidArgumentError(`${field}.pid`, target.pid, "must be a positive integer");
  } else if (!target.program) {
    throw new InvalidArgumentError(field, target, "name a program or a pid");
  }
}
