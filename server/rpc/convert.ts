// Mapping between the wire (generated protobuf-es messages) and the core's plain data:
// snapshots and events out, validated options in. No behaviour beyond mapping and validation.
import { create } from "@bufbuild/protobuf";
import { DurationSchema, durationMs, timestampFromDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  DependencyCondition as ProtoDependencyCondition,
  EventSchema,
  LogChunkSchema,
  LogGapReason as ProtoLogGapReason,
  LogStream,
  ProcessInfoSchema,
  ProcessState as ProtoProcessState,
  ProgramResultSchema,
  ProgramSpecSchema,
  ProbeSpecSchema,
  ProbeStatusSchema,
  RestartPolicy as ProtoRestartPolicy,
  RunInfoSchema,
  ShutdownHow as ProtoShutdownHow,
  ShutdownResultSchema,
  StartWait as ProtoStartWait,
  StopWait as ProtoStopWait,
  WatchEventsResponseSchema,
  type Event,
  type LabelSelector,
  type LogChunk as ProtoLogChunk,
  type ProcessInfo,
  type ProgramResult as ProtoProgramResult,
  type ProgramSpec,
  type ProbeSpec,
  type ProbeStatus as ProtoProbeStatus,
  type RunInfo,
  type ShutdownResult as ProtoShutdownResult,
  type WatchEventsResponse,
} from "../../gen/ts/corral/v1/process_manager_pb.js";
import { MAX_DURATION_MS } from "../core/limits.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { JournalEvent, WatchItem } from "../core/process/journal.js";
import type { GapReason as CoreSequenceGapReason, SequenceGap } from "../core/events/sequenced-log.js";
import { SequenceGapReason } from "../../gen/ts/corral/v1/sequence_pb.js";
import type {
  DependencyCondition,
  LogChunk,
  LogGapReason,
  ProbeConfig,
  ProbeStatus,
  LogStreamName,
  ProcessSnapshot,
  ProcessState,
  ProgramConfig,
  ProgramResult,
  RestartPolicy,
  RunSnapshot,
  Selector,
  ShutdownHow,
  ShutdownResult,
  StartWait,
  StopWait,
} from "../core/process/types.js";
import { toServerError } from "./errors.js";

// ---- durations and timestamps ----

/** Milliseconds -> Duration; core uptimes are fractional (monotonic clock), nanos must be whole. */
export function msToDuration(ms: number): Duration {
  const totalNanos = BigInt(Math.round(ms * 1e6));
  const seconds = totalNanos / 1_000_000_000n; // truncates toward zero, so nanos gets the sign of seconds
  return create(DurationSchema, { seconds, nanos: Number(totalNanos - seconds * 1_000_000_000n) });
}

/** Duration -> milliseconds; absent stays undefined; negative or malformed is refused, naming the field. */
export function durationToMs(duration: Duration | undefined, field: string): number | undefined {
  if (duration === undefined) return undefined;
  const nanosInRange = duration.nanos > -1_000_000_000 && duration.nanos < 1_000_000_000;
  const ms = durationMs(duration);
  if (!nanosInRange || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(field, `${duration.seconds}s ${duration.nanos}ns`, "must be a valid duration");
  }
  if (ms < 0) throw new InvalidArgumentError(field, `${ms}ms`, "must not be negative");
  // Node timers fire at once for delays past 2^31-1 ms: a huge timeout would act as none.
  if (ms > MAX_DURATION_MS) throw new InvalidArgumentError(field, `${duration.seconds}s`, `must be at most ${MAX_DURATION_MS} ms (about 24 days)`);
  return ms;
}

function timestamp(date: Date | undefined): Timestamp | undefined {
  return date === undefined ? undefined : timestampFromDate(date);
}

/** uint64 on the wire -> a JS number; values past 2^53 cannot be exact offsets or seqs. */
export function uint64ToNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError(field, value, "must be at most 2^53-1");
  return Number(value);
}

// ---- enums ----

const STATE_TO_PROTO: Record<ProcessState, ProtoProcessState> = {
  STOPPED: ProtoProcessState.STOPPED,
  STARTING: ProtoProcessState.STARTING,
  RUNNING: ProtoProcessState.RUNNING,
  BACKOFF: ProtoProcessState.BACKOFF,
  STOPPING: ProtoProcessState.STOPPING,
  EXITED: ProtoProcessState.EXITED,
  FATAL: ProtoProcessState.FATAL,
  UNKNOWN: ProtoProcessState.UNKNOWN,
};

export function stateToProto(state: ProcessState): ProtoProcessState {
  return STATE_TO_PROTO[state] ?? ProtoProcessState.UNKNOWN;
}

export function stateFromProto(state: ProtoProcessState, field = "state"): ProcessState {
  const found = (Object.keys(STATE_TO_PROTO) as ProcessState[]).find((name) => STATE_TO_PROTO[name] === state);
  if (found === undefined) throw new InvalidArgumentError(field, state, "must be a known ProcessState");
  return found;
}

const RESTART_POLICY_TO_PROTO: Record<RestartPolicy, ProtoRestartPolicy> = {
  never: ProtoRestartPolicy.NEVER,
  "on-failure": ProtoRestartPolicy.ON_FAILURE,
  always: ProtoRestartPolicy.ALWAYS,
};

/** Wire enums are open: any int32 can arrive, so every value is checked against a table. */
function enumFromProto<W extends number, C>(table: ReadonlyMap<W, C>, value: W, field: string, names: string): C {
  if (!table.has(value)) throw new InvalidArgumentError(field, value, `must be one of ${names}`);
  return table.get(value) as C;
}

const START_WAITS = new Map<ProtoStartWait, StartWait>([
  [ProtoStartWait.UNSPECIFIED, "running"],
  [ProtoStartWait.NONE, "none"],
  [ProtoStartWait.RUNNING, "running"],
  [ProtoStartWait.READY, "ready"],
]);

export function startWaitFromProto(wait: ProtoStartWait, field = "wait"): StartWait {
  return enumFromProto(START_WAITS, wait, field, "START_WAIT_NONE, START_WAIT_RUNNING, START_WAIT_READY");
}

const STOP_WAITS = new Map<ProtoStopWait, StopWait>([
  [ProtoStopWait.UNSPECIFIED, "stopped"],
  [ProtoStopWait.NONE, "none"],
  [ProtoStopWait.STOPPED, "stopped"],
]);

export function stopWaitFromProto(wait: ProtoStopWait, field = "wait"): StopWait {
  return enumFromProto(STOP_WAITS, wait, field, "STOP_WAIT_NONE, STOP_WAIT_STOPPED");
}

const LOG_STREAMS = new Map<LogStream, LogStreamName | undefined>([
  [LogStream.UNSPECIFIED, undefined],
  [LogStream.STDOUT, "stdout"],
  [LogStream.STDERR, "stderr"],
]);

/** UNSPECIFIED gives undefined: the caller decides what it means (both streams, or stdout). */
export function logStreamFromProto(stream: LogStream, field = "stream"): LogStreamName | undefined {
  return enumFromProto(LOG_STREAMS, stream, field, "LOG_STREAM_STDOUT, LOG_STREAM_STDERR");
}

export function logStreamToProto(stream: LogStreamName): LogStream {
  return stream === "stdout" ? LogStream.STDOUT : LogStream.STDERR;
}

// ---- wire input ----

/** A program name given on the wire: required. */
export function requireName(name: string, field = "name"): string {
  if (name === "") throw new InvalidArgumentError(field, name, "must not be empty");
  return name;
}

export function selectorFromProto(selector: LabelSelector | undefined): Selector | undefined {
  if (selector === undefined) return undefined;
  selector.names.forEach((name, i) => requireName(name, `selector.names[${i}]`));
  return { matchLabels: { ...selector.matchLabels }, names: [...selector.names] };
}

// ---- core -> wire ----

export function programSpecToProto(config: ProgramConfig): ProgramSpec {
  return create(ProgramSpecSchema, {
    name: config.name,
    command: config.command,
    cwd: config.cwd,
    env: config.env,
    autostart: config.autostart,
    autorestart: RESTART_POLICY_TO_PROTO[config.autorestart] ?? ProtoRestartPolicy.UNSPECIFIED,
    exitcodes: config.exitcodes,
    startsecs: msToDuration(config.startsecsMs),
    startretries: config.startretries,
    stopSignal: config.stopSignal,
    stopTimeout: msToDuration(config.stopTimeoutMs),
    labels: config.labels,
    backoff: {
      initial: msToDuration(config.backoff.initialMs),
      max: msToDuration(config.backoff.maxMs),
      multiplier: config.backoff.multiplier,
      resetAfter: msToDuration(config.backoff.resetAfterMs),
    },
    log: { maxBytes: BigInt(config.log.maxBytes), backups: config.log.backups },
    maxRestarts: config.maxRestarts,
    restartWindow: msToDuration(config.restartWindowMs),
    stdin: config.stdin,
    description: config.description,
    readiness: config.readiness === undefined ? undefined : probeSpecToProto(config.readiness),
    liveness: config.liveness === undefined ? undefined : probeSpecToProto(config.liveness),
    dependsOn: Object.fromEntries(Object.entries(config.dependsOn ?? {}).map(([name, condition]) => [name, DEPENDENCY_CONDITION_TO_PROTO[condition]])),
    host: config.host ?? "",
  });
}

const DEPENDENCY_CONDITION_TO_PROTO: Record<DependencyCondition, ProtoDependencyCondition> = {
  started: ProtoDependencyCondition.STARTED,
  ready: ProtoDependencyCondition.READY,
  completed: ProtoDependencyCondition.COMPLETED,
  completed_successfully: ProtoDependencyCondition.COMPLETED_SUCCESSFULLY,
};

export function probeSpecToProto(probe: ProbeConfig): ProbeSpec {
  const check = probe.check;
  const timing = {
    period: msToDuration(probe.periodMs),
    timeout: msToDuration(probe.timeoutMs),
    initialDelay: msToDuration(probe.initialDelayMs),
    successThreshold: probe.successThreshold,
    failureThreshold: probe.failureThreshold,
    startTimeout: msToDuration(probe.startTimeoutMs),
  };
  switch (check.kind) {
    case "tcp":
      return create(ProbeSpecSchema, {
        ...timing,
        check: { case: "tcp", value: `${check.host.includes(":") ? `[${check.host}]` : check.host}:${check.port}` },
      });
    case "exec":
      return create(ProbeSpecSchema, { ...timing, check: { case: "exec", value: { command: check.command } } });
    case "log":
      return create(ProbeSpecSchema, {
        ...timing,
        check: { case: "log", value: { pattern: check.pattern, stream: check.stream === undefined ? LogStream.UNSPECIFIED : logStreamToProto(check.stream) } },
      });
    case "grpc":
      return create(ProbeSpecSchema, { ...timing, check: { case: "grpc", value: { address: check.address, service: check.service } } });
  }
}

function probeStatusToProto(status: ProbeStatus | undefined): ProtoProbeStatus | undefined {
  if (status === undefined) return undefined;
  return create(ProbeStatusSchema, {
    ok: status.ok,
    message: status.message,
    time: timestampFromDate(status.time),
    consecutiveSuccesses: status.consecutiveSuccesses,
    consecutiveFailures: status.consecutiveFailures,
  });
}

export function runToProto(run: RunSnapshot): RunInfo {
  return create(RunInfoSchema, {
    runId: BigInt(run.runId),
    pid: run.pid,
    pidStartTicks: BigInt(run.pidStartTicks),
    startedAt: timestamp(run.startedAt),
    exitedAt: timestamp(run.exitedAt),
    exitCode: run.exitCode,
    exitSignal: run.exitSignal ?? "",
    spawnError: run.spawnError ?? "",
  });
}

export function processToProto(snapshot: ProcessSnapshot): ProcessInfo {
  return create(ProcessInfoSchema, {
    name: snapshot.name,
    state: stateToProto(snapshot.state),
    stateReason: snapshot.stateReason,
    stateSince: timestamp(snapshot.stateSince),
    run: snapshot.run === undefined ? undefined : runToProto(snapshot.run),
    restarts: snapshot.restarts,
    startAttempts: snapshot.startAttempts,
    spec: programSpecToProto(snapshot.config),
    labels: snapshot.config.labels,
    ready: snapshot.ready,
    adhoc: snapshot.adhoc,
    host: snapshot.host,
    remote: snapshot.remote,
    nextRetryAt: timestamp(snapshot.nextRetryAt),
    uptime: snapshot.uptimeMs === undefined ? undefined : msToDuration(snapshot.uptimeMs),
    readinessProbe: probeStatusToProto(snapshot.readinessProbe),
    livenessProbe: probeStatusToProto(snapshot.livenessProbe),
  });
}

export function programResultToProto(result: ProgramResult): ProtoProgramResult {
  const error = result.error === undefined ? undefined : toServerError(result.error);
  return create(ProgramResultSchema, {
    name: result.name,
    ok: result.ok,
    code: error?.code ?? 0,
    error: error?.details ?? "",
    process: processToProto(result.process),
    note: result.note ?? "",
    shutdown: result.shutdown ? shutdownToProto(result.shutdown) : undefined,
    status: error?.status,
  });
}

const SHUTDOWN_HOW: Record<ShutdownHow, ProtoShutdownHow> = {
  soft: ProtoShutdownHow.SOFT,
  hard: ProtoShutdownHow.HARD,
  survivors: ProtoShutdownHow.SURVIVORS,
  not_running: ProtoShutdownHow.NOT_RUNNING,
  pending: ProtoShutdownHow.PENDING,
};

export function shutdownToProto(result: ShutdownResult): ProtoShutdownResult {
  return create(ShutdownResultSchema, { wasRunning: result.wasRunning, pid: result.pid, how: SHUTDOWN_HOW[result.how], survivors: result.survivors });
}

export function logChunkToProto(chunk: LogChunk, program: string): ProtoLogChunk {
  return create(LogChunkSchema, {
    program,
    stream: logStreamToProto(chunk.stream),
    offset: BigInt(chunk.offset),
    data: chunk.data,
    time: timestampFromDate(chunk.time),
    gaps: (chunk.gaps ?? []).map((gap) => ({
      stream: logStreamToProto(gap.stream),
      fromOffset: BigInt(gap.fromOffset),
      toOffset: BigInt(gap.toOffset),
      reason: GAP_REASONS[gap.reason],
    })),
  });
}

const GAP_REASONS: Record<LogGapReason, ProtoLogGapReason> = {
  backups: ProtoLogGapReason.BACKUPS,
  max_total: ProtoLogGapReason.MAX_TOTAL,
  disk_full: ProtoLogGapReason.DISK_FULL,
};

export function eventToProto(event: JournalEvent): Event {
  const base = { seq: BigInt(event.seq), time: timestampFromDate(event.time), program: event.program, runId: BigInt(event.runId) };
  const detail = event.detail;
  switch (detail.kind) {
    case "stateChanged":
      return create(EventSchema, {
        ...base,
        detail: { case: "stateChanged", value: { from: stateToProto(detail.from), to: stateToProto(detail.to), reason: detail.reason } },
      });
    case "processStarted":
      return create(EventSchema, {
        ...base,
        detail: { case: "processStarted", value: { pid: detail.pid, pidStartTicks: BigInt(detail.pidStartTicks) } },
      });
    case "processExited":
      return create(EventSchema, {
        ...base,
        detail: {
          case: "processExited",
          value: {
            pid: detail.pid,
            exitCode: detail.exitCode,
            signal: detail.signal ?? "",
            expected: detail.expected,
            uptime: msToDuration(detail.uptimeMs),
            reason: detail.reason ?? "",
            stderrTail: [...(detail.stderrTail ?? [])],
          },
        },
      });
    case "spawnFailed":
      return create(EventSchema, {
        ...base,
        detail: { case: "spawnFailed", value: { path: detail.path, errno: detail.errno, message: detail.message } },
      });
    case "server":
      return create(EventSchema, { ...base, detail: { case: "server", value: { message: detail.message } } });
    case "probeChanged":
      return create(EventSchema, {
        ...base,
        detail: { case: "probeChanged", value: { probe: detail.probe, ok: detail.ok, message: detail.message } },
      });
    case "configApplied": {
      const { added, changed, removed, unchanged, restarted } = detail;
      return create(EventSchema, { ...base, detail: { case: "configApplied", value: { diff: { added, changed, removed, unchanged, restarted } } } });
    }
    case "taskRestored":
      return create(EventSchema, {
        ...base,
        detail: { case: "taskRestored", value: { task: detail.task, type: detail.type, started: detail.started, message: detail.message } },
      });
  }
}

export function watchItemToProto(item: WatchItem): WatchEventsResponse {
  if ("event" in item) return create(WatchEventsResponseSchema, { kind: { case: "event", value: eventToProto(item.event) } });
  return create(WatchEventsResponseSchema, { kind: { case: "gap", value: gapToProto(item.gap) } });
}

const SEQUENCE_GAP_REASONS: Record<CoreSequenceGapReason, SequenceGapReason> = {
  "not-held": SequenceGapReason.NOT_HELD,
  "fell-behind": SequenceGapReason.FELL_BEHIND,
  ahead: SequenceGapReason.AHEAD,
};

/** The fields EventGap and SignalGap share: one gap shape for both logs. */
export function gapToProto(gap: SequenceGap): { afterSeq: bigint; firstAvailableSeq: bigint; missed: bigint; reason: SequenceGapReason } {
  return {
    afterSeq: BigInt(gap.afterSeq),
    firstAvailableSeq: BigInt(gap.firstAvailableSeq),
    missed: BigInt(gap.missed),
    reason: SEQUENCE_GAP_REASONS[gap.reason],
  };
}
