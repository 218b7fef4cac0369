// Prometheus metrics of the daemon in the text exposition format (0.0.4). Program and daemon
// figures are collected when scraped (no polling loop); gRPC calls are counted as they end.
// Written by hand rather than with prom-client: a few gauges, one counter and one histogram
// do not need a dependency, and collect-on-scrape is what we want anyway.
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { ProcessSnapshot } from "../core/process/types.js";
import { PROCESS_STATES } from "../core/process/types.js";
import { countOpenFds } from "../core/os/proc-sample.js";
import type { RunLookup } from "../core/monitor/runs.js";
import { StatsSampler } from "../core/monitor/stats.js";

/** Latency buckets in seconds: sub-millisecond loopback calls up to long waits. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the metrics need of the TaskRunner (kept narrow: the monitor does not drive tasks). */
export interface TaskMetricsSource {
  /** Every task state name, so each task gets one series per state. */
  states: readonly string[];
  list(): { name: string; type: string; state: string; locked: boolean }[];
  /** Signals published since the daemon started (the bus's last sequence number). */
  signalsPublished(): number;
}

export interface MetricsSources {
  programs: () => ProcessSnapshot[];
  runs: RunLookup;
  tasks?: TaskMetricsSource;
  /** Extra text appended to every scrape (e.g. task metrics), already in exposition format. */
  extra?: () => string;
  /**
   * Track event-loop lag (corral_daemon_event_loop_lag_seconds). Node's histogram is a timer that
   * wakes the daemon ~50 times a second (0.7 % of a core when idle), so only a daemon with a
   * metrics endpoint, whose lag someone reads, pays for it.
   */
  eventLoopDelay?: boolean;
}

interface CallSeries {
  method: string;
  count: Map<string, number>;
  buckets: number[];
  sum: number;
  total: number;
}

export class Metrics {
  private readonly calls = new Map<string, CallSeries>();
  private readonly sampler: StatsSampler;
  private readonly loopDelay: IntervalHistogram | undefined;

  constructor(private readonly sources: MetricsSources) {
    this.sampler = new StatsSampler(sources.runs);
    if (sources.eventLoopDelay) {
      this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
      this.loopDelay.enable();
    }
  }

  /** Counts a finished gRPC call (method path, status name, duration). */
  observeCall(method: string, code: string, seconds: number): void {
    let series = this.calls.get(method);
    if (!series) {
      series = { method, count: new Map(), buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, total: 0 };
      this.calls.set(method, series);
    }
    series.count.set(code, (series.count.get(code) ?? 0) + 1);
    LATENCY_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) series.buckets[i]++;
    });
    series.sum += seconds;
    series.total++;
  }

  /** The whole scrape. */
  render(): string {
    const out = new Exposition();
    this.renderPrograms(out);
    this.renderTasks(out);
    this.renderDaemon(out);
    this.renderCalls(out);
    return out.text() + (this.sources.extra?.() ?? "");
  }

  close(): void {
    this.loopDelay?.disable();
  }

  private renderPrograms(out: Exposition): void {
    const programs = this.sources.programs();
    const live = programs.filter((p) => p.run && !p.run.exitedAt && !p.run.spawnError && p.run.pid > 0 && ["STARTING", "RUNNING", "STOPPING"].includes(p.state));
    const samples = this.sampler.sample(
      live.map((p) => ({ program: p.name })),
      true,
    );
    const stats = new Map(samples.filter((s) => s.total).map((s) => [s.program ?? "", s.total!]));

    out.family("corral_program_up", "gauge", "1 when the program has a live run (STARTING, RUNNING or STOPPING)");
    for (const p of programs) out.sample("corral_program_up", { program: p.name }, stats.has(p.name) ? 1 : 0);
    out.family("corral_program_state", "gauge", "1 for the program's current state, 0 for the others");
    for (const p of programs) for (const state of PROCESS_STATES) out.sample("corral_program_state", { program: p.name, state }, p.state === state ? 1 : 0);
    out.family("corral_program_ready", "gauge", "1 when the program is ready (readiness probe passed, or RUNNING without one)");
    for (const p of programs) out.sample("corral_program_ready", { program: p.name }, p.ready ? 1 : 0);
    out.family("corral_program_restarts", "gauge", "automatic restarts since the program was last started by a user");
    for (const p of programs) out.sample("corral_program_restarts", { program: p.name }, p.restarts);
    out.family("corral_program_last_exit_code", "gauge", "exit code of the last run that exited with a code");
    for (const p of programs) if (p.run?.exitCode !== undefined) out.sample("corral_program_last_exit_code", { program: p.name }, p.run.exitCode);
    out.family("corral_program_cpu_seconds_total", "counter", "user + system CPU time of the current run's process tree");
    for (const [program, s] of stats) out.sample("corral_program_cpu_seconds_total", { program }, s.cpuSeconds);
    out.family("corral_program_resident_memory_bytes", "gauge", "resident memory of the current run's process tree");
    for (const [program, s] of stats) out.sample("corral_program_resident_memory_bytes", { program }, s.rssBytes);
    out.family("corral_program_open_fds", "gauge", "open file descriptors of the current run's process tree");
    for (const [program, s] of stats) if (s.openFds !== undefined) out.sample("corral_program_open_fds", { program }, s.openFds);
    out.family("corral_program_start_time_seconds", "gauge", "start of the current run, in seconds since the epoch");
    for (const [program, s] of stats) out.sample("corral_program_start_time_seconds", { program }, s.startedAt.getTime() / 1000);
  }

  private renderTasks(out: Exposition): void {
    const source = this.sources.tasks;
    if (!source) return;
    const tasks = source.list();
    out.family("corral_task_state", "gauge", "1 for the task's current state, 0 for the others");
    for (const t of tasks) for (const state of source.states) out.sample("corral_task_state", { task: t.name, type: t.type, state }, t.state === state ? 1 : 0);
    out.family("corral_task_locked", "gauge", "1 while the task is locked by a client");
    for (const t of tasks) out.sample("corral_task_locked", { task: t.name }, t.locked ? 1 : 0);
    out.family("corral_task_signals_published_total", "counter", "task signals published since the daemon started (all tasks)");
    out.sample("corral_task_signals_published_total", {}, source.signalsPublished());
  }

  private renderDaemon(out: Exposition): void {
    const memory = process.memoryUsage();
    out.family("corral_daemon_resident_memory_bytes", "gauge", "resident memory of the daemon");
    out.sample("corral_daemon_resident_memory_bytes", {}, memory.rss);
    out.family("corral_daemon_heap_used_bytes", "gauge", "V8 heap in use by the daemon");
    out.sample("corral_daemon_heap_used_bytes", {}, memory.heapUsed);
    // Buffers (log chunks, gRPC frames) live outside the V8 heap: a leak of them shows here, not in heap_used.
    out.family("corral_daemon_external_memory_bytes", "gauge", "memory of C++ objects bound to JS objects, Buffers included");
    out.sample("corral_daemon_external_memory_bytes", {}, memory.external);
    out.family("corral_daemon_array_buffers_bytes", "gauge", "memory of ArrayBuffers and Buffers (part of external memory)");
    out.sample("corral_daemon_array_buffers_bytes", {}, memory.arrayBuffers);
    out.family("corral_daemon_open_fds", "gauge", "open file descriptors of the daemon");
    out.sample("corral_daemon_open_fds", {}, countOpenFds(process.pid) ?? 0);
    if (this.loopDelay) {
      out.family("corral_daemon_event_loop_lag_seconds", "gauge", "event loop delay since the last scrape (p99)");
      const p99 = this.loopDelay.percentile(99);
      out.sample("corral_daemon_event_loop_lag_seconds", {}, Number.isFinite(p99) ? p99 / 1e9 : 0);
      this.loopDelay.reset();
    }
  }

  private renderCalls(out: Exposition): void {
    out.family("corral_grpc_server_handled_total", "counter", "gRPC calls finished, by method and status code");
    for (const series of this.calls.values()) for (const [code, n] of series.count) out.sample("corral_grpc_server_handled_total", { method: series.method, code }, n);
    out.family("corral_grpc_server_handling_seconds", "histogram", "gRPC call durations, from receipt to the end of the response");
    for (const series of this.calls.values()) {
      LATENCY_BUCKETS.forEach((bound, i) => out.sample("corral_grpc_server_handling_seconds_bucket", { method: series.method, le: String(bound) }, series.buckets[i]));
      out.sample("corral_grpc_server_handling_seconds_bucket", { method: series.method, le: "+Inf" }, series.total);
      out.sample("corral_grpc_server_handling_seconds_sum", { method: series.method }, series.sum);
      out.sample("corral_grpc_server_handling_seconds_count", { method: series.method }, series.total);
    }
  }
}

/** Builds exposition text: HELP and TYPE once per family, escaped label values. */
class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
    this.lines.push(`${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatNumber(value)}`);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
