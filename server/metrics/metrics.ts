// Prometheus metrics of the daemon, written by prom-client. Program, task and daemon figures are
// collected when scraped (one snapshot and one /proc pass per scrape, no polling loop); gRPC calls
// and program exits are counted as they happen. gRPC metrics carry go-grpc-prometheus's names and
// labels (grpc_server_handled_total{grpc_type, grpc_service, grpc_method, grpc_code}), so the
// usual gRPC dashboards work; process_* and nodejs_* are prom-client's default metrics.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { JournalEvent } from "../core/process/journal.js";
import type { ProcessSnapshot } from "../core/process/types.js";
import { countOpenFds } from "../core/os/proc-sample.js";
import type { RunLookup } from "../core/monitor/runs.js";
import { StatsSampler } from "../core/monitor/stats.js";
import { registerProgramMetrics, type Scrape } from "./program-metrics.js";
import { ScrapedCounter, ScrapedGauge } from "./scraped.js";

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
  /** corral_build_info{version}. */
  version: string;
  /**
   * prom-client's process_* and nodejs_* metrics. Their event-loop-lag histogram is a timer that
   * wakes the daemon ~50 times a second (0.7 % of a core when idle), so only a daemon with a
   * metrics endpoint, which someone scrapes, pays for it.
   */
  runtimeMetrics?: boolean;
}

/** A gRPC method as the call metrics label it. */
export interface CalledMethod {
  /** "/corral.v1.ProcessManager/GetProcess" */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

const GRPC_TYPES = { "false,false": "unary", "false,true": "server_stream", "true,false": "client_stream", "true,true": "bidi_stream" } as const;

function grpcLabels(method: CalledMethod): { grpc_type: string; grpc_service: string; grpc_method: string } {
  const [, service = "", name = ""] = method.path.split("/");
  return { grpc_type: GRPC_TYPES[`${method.requestStream},${method.responseStream}`], grpc_service: service, grpc_method: name };
}

/** Why a run ended, as the exits counter's reason label. */
function exitReason(detail: Extract<JournalEvent["detail"], { kind: "processExited" }>): string {
  if (detail.limit === "limits.memory") return "oom_killed";
  if (detail.limit === "max_memory") return "max_memory";
  if (detail.signal === "SIGKILL" && !detail.expected) return "killed";
  if (detail.signal !== undefined) return "signal";
  return detail.exitCode === 0 ? "exit_zero" : "exit_nonzero";
}

export class Metrics {
  readonly registry = new Registry();
  private readonly sampler: StatsSampler;
  private scrape: Scrape | undefined;
  private readonly started: Counter<string>;
  private readonly handled: Counter<string>;
  private readonly handling: Histogram<string>;
  private readonly exits: Counter<string>;
  private readonly restartsTotal: Counter<string>;

  constructor(private readonly sources: MetricsSources) {
    this.sampler = new StatsSampler(sources.runs);
    const r = this.registry;
    if (sources.runtimeMetrics) {
      collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 20 });
      // Gauges named *_total break the naming rule (promtool says so); nodejs_active_handles and
      // friends, by type, carry the same figures.
      for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) r.removeSingleMetric(name);
    }
    r.registerMetric(
      new ScrapedGauge("corral_build_info", "1, labelled with the daemon's version and the Node.js version", () => [
        { labels: { version: sources.version, node_version: process.version }, value: 1 },
      ]),
    );
    registerProgramMetrics(r, () => this.current());
    this.registerTasks();
    this.registerDaemon();
    const programLabels = ["program", "host"];
    this.exits = new Counter({
      name: "corral_program_exits_total",
      help: "runs that ended, by reason (exit_zero, exit_nonzero, signal, killed, oom_killed, max_memory, spawn_failed) and whether corral caused it",
      labelNames: [...programLabels, "reason", "expected"],
      registers: [r],
    });
    this.restartsTotal = new Counter({
      name: "corral_program_restarts_total",
      help: "automatic restarts (by the restart policy) since the daemon started",
      labelNames: programLabels,
      registers: [r],
    });
    const grpc = ["grpc_type", "grpc_service", "grpc_method"];
    this.started = new Counter({ name: "grpc_server_started_total", help: "gRPC calls started on the server", labelNames: grpc, registers: [r] });
    this.handled = new Counter({
      name: "grpc_server_handled_total",
      help: "gRPC calls completed on the server, whatever their status",
      labelNames: [...grpc, "grpc_code"],
      registers: [r],
    });
    this.handling = new Histogram({
      name: "grpc_server_handling_seconds",
      help: "gRPC call durations, from receipt to the end of the response",
      labelNames: grpc,
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
  }

  /** A gRPC call began. */
  callStarted(method: CalledMethod): void {
    this.started.inc(grpcLabels(method));
  }

  /** A gRPC call ended with a status name ("OK", "NOT_FOUND", ...). */
  callHandled(method: CalledMethod, code: string, seconds: number): void {
    const labels = grpcLabels(method);
    this.handled.inc({ ...labels, grpc_code: code });
    this.handling.observe(labels, seconds);
  }

  /** Counts exits and automatic restarts from the event journal, as they happen. */
  observeEvent(event: JournalEvent, hostOf: (program: string) => string): void {
    const { detail } = event;
    const labels = { program: event.program, host: hostOf(event.program) };
    if (detail.kind === "processExited") this.exits.inc({ ...labels, reason: exitReason(detail), expected: String(detail.expected) });
    else if (detail.kind === "spawnFailed") this.exits.inc({ ...labels, reason: "spawn_failed", expected: "false" });
    // Each automatic restart that ran (forked, or failed to): what the snapshot's `restarts` counts too.
    if ((detail.kind === "processStarted" || detail.kind === "spawnFailed") && detail.restart) this.restartsTotal.inc(labels);
  }

  /** The whole scrape, in the Prometheus text format; contentType says which. */
  async render(): Promise<string> {
    const programs = this.sources.programs();
    const local = programs.filter((p) => !p.remote);
    const live = local.filter((p) => p.run && !p.run.exitedAt && !p.run.spawnError && p.run.pid > 0 && ["STARTING", "RUNNING", "STOPPING"].includes(p.state));
    const samples = this.sampler.sample(
      live.map((p) => ({ program: p.name })),
      true,
    );
    this.scrape = { programs, local, trees: new Map(samples.filter((s) => s.total).map((s) => [s.program ?? "", s.total!])) };
    try {
      return await this.registry.metrics();
    } finally {
      this.scrape = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.registry.clear();
  }

  private current(): Scrape {
    return this.scrape ?? { programs: [], local: [], trees: new Map() };
  }

  private registerTasks(): void {
    const source = this.sources.tasks;
    if (!source) return;
    const r = this.registry;
    r.registerMetric(
      new ScrapedGauge("corral_task_state", "1 for the task's current state, 0 for the others", () =>
        source.list().flatMap((t) => source.states.map((state) => ({ labels: { task: t.name, type: t.type, state }, value: t.state === state ? 1 : 0 }))),
      ),
    );
    r.registerMetric(
      new ScrapedGauge("corral_task_locked", "1 while the task is locked by a client", () =>
        source.list().map((t) => ({ labels: { task: t.name }, value: t.locked ? 1 : 0 })),
      ),
    );
    r.registerMetric(
      new ScrapedCounter("corral_task_signals_published_total", "task signals published since the daemon started (all tasks)", () => [
        { labels: {}, value: source.signalsPublished() },
      ]),
    );
  }

  private registerDaemon(): void {
    const r = this.registry;
    const daemon = (name: string, help: string, value: () => number) => r.registerMetric(new ScrapedGauge(name, help, () => [{ labels: {}, value: value() }]));
    daemon("corral_daemon_resident_memory_bytes", "resident memory of the daemon", () => process.memoryUsage.rss());
    daemon("corral_daemon_heap_used_bytes", "V8 heap in use by the daemon", () => process.memoryUsage().heapUsed);
    // Buffers (log chunks, gRPC frames) live outside the V8 heap: a leak of them shows here, not in heap_used.
    daemon("corral_daemon_external_memory_bytes", "memory of C++ objects bound to JS objects, Buffers included", () => process.memoryUsage().external);
    daemon("corral_daemon_array_buffers_bytes", "memory of ArrayBuffers and Buffers (part of external memory)", () => process.memoryUsage().arrayBuffers);
    daemon("corral_daemon_open_fds", "open file descriptors of the daemon", () => countOpenFds(process.pid) ?? 0);
  }
}
