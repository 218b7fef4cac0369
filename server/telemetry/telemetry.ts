// OpenTelemetry export (config `telemetry`), over OTLP/HTTP to a collector: a span for every
// RPC (gRPC and the dashboard's Connect calls alike: one server middleware in the shared chain),
// optionally every journal event as an OTLP log record, and optionally the programs' up, restarts,
// CPU and memory as OTLP metrics. Imported lazily by daemon.ts: without `telemetry` none of the
// OpenTelemetry SDK is loaded. Every queue is the SDK's bounded batch queue (sizes below); when
// the collector is down, records beyond it are dropped, never held.
import { SeverityNumber } from "@opentelemetry/api-logs";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPLogExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ServerError, type CallContext, type Metadata, type ServerMiddleware, type ServerMiddlewareCall } from "nice-grpc";
import type { JournalEvent, WatchItem } from "../core/process/journal.js";
import { StatsSampler } from "../core/monitor/stats.js";
import type { RunLookup } from "../core/monitor/runs.js";
import type { ProcessSnapshot } from "../core/process/types.js";
import { formatItem } from "../daemon-log.js";
import { callerOf } from "../rpc/auth.middleware.js";
import { isAbortError } from "../rpc/errors.js";

/** Spans, log records and metric points waiting for export, at most (the SDK drops beyond). */
const MAX_QUEUE = 2048;
const EXPORT_DELAY_MS = 1000;

export interface TelemetryConfig {
  /** OTLP/HTTP base URL, e.g. "http://127.0.0.1:4318" (/v1/traces, /v1/logs, /v1/metrics are appended). */
  endpoint: string;
  serviceName: string;
  traces: boolean;
  logs: boolean;
  metrics: boolean;
  metricsIntervalMs: number;
}

export interface TelemetrySources {
  hostName: string;
  version: string;
  /** The journal's live events (for logs). */
  watchEvents(signal: AbortSignal): AsyncIterable<WatchItem>;
  programs(): ProcessSnapshot[];
  runs: RunLookup;
}

export interface Telemetry {
  /** For the rpc server's chain (outermost): one SERVER span per call; undefined without traces. */
  readonly middleware?: ServerMiddleware;
  /** Flushes what is queued (bounded by the exporters' timeouts) and stops. */
  close(): Promise<void>;
}

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => [...carrier].map(([key]) => key),
  get: (carrier, key) => {
    const value = carrier.get(key);
    return typeof value === "string" ? value : undefined;
  },
};

/** The span middleware: W3C trace context from the caller's metadata, OpenTelemetry's rpc.* attributes. */
export function tracingMiddleware(tracer: Tracer): ServerMiddleware {
  const propagator = new W3CTraceContextPropagator();
  return async function* traced<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const [, service = "", method = ""] = call.method.path.split("/");
    const parent = propagator.extract(ROOT_CONTEXT, context.metadata, metadataGetter);
    const span = tracer.startSpan(
      `${service}/${method}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": "grpc",
          "rpc.service": service,
          "rpc.method": method,
          "network.peer.address": context.peer,
          "corral.rpc.stream": call.responseStream,
        },
      },
      parent,
    );
    let code = 0;
    let message: string | undefined;
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      code = isAbortError(error) || context.signal.aborted ? 1 : error instanceof ServerError ? error.code : 2;
      message = error instanceof ServerError ? error.details : error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      span.setAttribute("rpc.grpc.status_code", code);
      const caller = callerOf(context);
      if (caller !== undefined) span.setAttribute("enduser.id", caller);
      if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
      span.end();
    }
  };
}

function severityOf(line: string): { number: SeverityNumber; text: string } {
  const level = (JSON.parse(line) as { level?: string }).level ?? "info";
  if (level === "error") return { number: SeverityNumber.ERROR, text: "ERROR" };
  if (level === "warn") return { number: SeverityNumber.WARN, text: "WARN" };
  return { number: SeverityNumber.INFO, text: "INFO" };
}

export function startTelemetry(config: TelemetryConfig, sources: TelemetrySources): Telemetry {
  const resource = resourceFromAttributes({ "service.name": config.serviceName, "service.version": sources.version, "host.name": sources.hostName });
  const url = (signal: string) => `${config.endpoint.replace(/\/+$/, "")}/v1/${signal}`;
  const closers: (() => Promise<void>)[] = [];
  const batch = { maxQueueSize: MAX_QUEUE, maxExportBatchSize: 512, scheduledDelayMillis: EXPORT_DELAY_MS };

  let middleware: ServerMiddleware | undefined;
  if (config.traces) {
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: url("traces") }), batch)] });
    middleware = tracingMiddleware(provider.getTracer("corral", sources.version));
    closers.push(() => provider.shutdown());
  }

  if (config.logs) {
    const provider = new LoggerProvider({
      resource,
      processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: url("logs") }), ...batch })],
    });
    const logger = provider.getLogger("corral.events", sources.version);
    const stop = new AbortController();
    void (async () => {
      try {
        for await (const item of sources.watchEvents(stop.signal)) {
          // The daemon log's own JSON line: the same words as `--log-format json`.
          const line = formatItem(item, "json");
          const fields = JSON.parse(line) as Record<string, unknown>;
          const severity = severityOf(line);
          const event: JournalEvent | undefined = "event" in item ? item.event : undefined;
          logger.emit({
            severityNumber: severity.number,
            severityText: severity.text,
            body: String(fields.message ?? ""),
            ...(event ? { timestamp: event.time } : {}),
            attributes: {
              "corral.event.kind": String(fields.kind ?? (event ? event.detail.kind : "gap")),
              ...(event ? { "corral.program": event.program, "corral.event.seq": event.seq, "corral.run_id": event.runId } : {}),
            },
          });
        }
      } catch (error) {
        if (!stop.signal.aborted) process.stderr.write(`corral: OTLP event logs stopped: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    })();
    closers.push(async () => {
      stop.abort();
      await provider.shutdown();
    });
  }

  if (config.metrics) {
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: url("metrics") }),
      exportIntervalMillis: config.metricsIntervalMs,
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter("corral", sources.version);
    const sampler = new StatsSampler(sources.runs);
    const up = meter.createObservableGauge("corral.program.up", { description: "1 while the program is RUNNING, else 0" });
    const restarts = meter.createObservableGauge("corral.program.restarts", { description: "automatic restarts since the last start by a user" });
    const cpu = meter.createObservableCounter("corral.program.cpu.time", { unit: "s", description: "CPU time of the program's process tree" });
    const memory = meter.createObservableGauge("corral.program.memory.usage", { unit: "By", description: "resident memory of the program's process tree" });
    meter.addBatchObservableCallback(
      (observer) => {
        // One snapshot and one /proc pass per export, as for a Prometheus scrape; this host's programs only.
        const local = sources.programs().filter((p) => !p.remote);
        for (const program of local) {
          const attributes = { "corral.program": program.name, "host.name": program.host };
          observer.observe(up, program.state === "RUNNING" ? 1 : 0, attributes);
          observer.observe(restarts, program.restarts, attributes);
        }
        const live = local.filter((p) => p.run && !p.run.exitedAt && p.run.pid > 0 && ["STARTING", "RUNNING", "STOPPING"].includes(p.state));
        for (const sample of sampler.sample(
          live.map((p) => ({ program: p.name })),
          true,
        )) {
          if (!sample.total || !sample.program) continue;
          const attributes = { "corral.program": sample.program, "host.name": sources.hostName };
          observer.observe(cpu, sample.total.cpuSeconds, attributes);
          observer.observe(memory, sample.total.rssBytes, attributes);
        }
      },
      [up, restarts, cpu, memory],
    );
    closers.push(() => provider.shutdown());
  }

  return {
    ...(middleware ? { middleware } : {}),
    close: async () => {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
