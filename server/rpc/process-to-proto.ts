// The core's programs and their results as wire messages: a program's spec (its config as the
// wire says it), its probes, its run, its snapshot (ProcessInfo), a bulk operation's result per
// program and a stop's ShutdownResult.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  DependencyCondition as ProtoDependencyCondition,
  LogStream,
  ProcessInfoSchema,
  ProcessView,
  ProgramResultSchema,
  ProgramSpecSchema,
  ProbeSpecSchema,
  ProbeStatusSchema,
  RestartPolicy as ProtoRestartPolicy,
  RunInfoSchema,
  ShutdownHow as ProtoShutdownHow,
  ShutdownResultSchema,
  type ProcessInfo,
  type ProgramResult as ProtoProgramResult,
  type ProgramSpec,
  type ProbeSpec,
  type ProbeStatus as ProtoProbeStatus,
  type RunInfo,
  type ShutdownResult as ProtoShutdownResult,
} from "../../gen/ts/corral/v1/process_manager_pb.js";
import type {
  DependencyCondition,
  ProbeConfig,
  ProbeStatus,
  ProcessSnapshot,
  ProgramConfig,
  ProgramResult,
  RestartPolicy,
  RunSnapshot,
  ShutdownHow,
  ShutdownResult,
} from "../core/process/types.js";
import { logStreamToProto, msToDuration, stateToProto, timestamp } from "./convert.js";
import { toServerError } from "./errors.js";
import { encodeSpecOnce } from "./spec-encoding.js";

const RESTART_POLICY_TO_PROTO: Record<RestartPolicy, ProtoRestartPolicy> = {
  never: ProtoRestartPolicy.NEVER,
  "on-failure": ProtoRestartPolicy.ON_FAILURE,
  always: ProtoRestartPolicy.ALWAYS,
};

/**
 * The spec message of each config object, built once: a config is replaced whole, never changed
 * in place (setConfig), and replies only read the message, so every GetProcess and listing of an
 * unchanged program shares it (converting its durations, backoff and log settings on every call
 * was most of a status call's own work).
 */
const specs = new WeakMap<ProgramConfig, ProgramSpec>();
/** The same for PROCESS_VIEW_BASIC's slim spec (name and host), which a status table asks for at every call. */
const basicSpecs = new WeakMap<ProgramConfig, ProgramSpec>();

export function programSpecToProto(config: ProgramConfig): ProgramSpec {
  let spec = specs.get(config);
  if (spec === undefined) {
    // Encoded once as well, on the gRPC wire (spec-encoding.ts).
    spec = encodeSpecOnce(buildProgramSpec(config));
    specs.set(config, spec);
  }
  return spec;
}

function basicSpecOf(config: ProgramConfig): ProgramSpec {
  let spec = basicSpecs.get(config);
  if (spec === undefined) {
    spec = encodeSpecOnce(create(ProgramSpecSchema, { name: config.name, host: config.host ?? "" }));
    basicSpecs.set(config, spec);
  }
  return spec;
}

function buildProgramSpec(config: ProgramConfig): ProgramSpec {
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
    redirectOutput: config.redirectOutput ?? [],
    customStreams: config.customStreams ?? [],
    detach: config.detach === true,
    limits:
      config.limits === undefined
        ? undefined
        : { memory: BigInt(config.limits.memoryBytes ?? 0), cpu: config.limits.cpuCores ?? 0, pids: config.limits.pids ?? 0 },
    maxMemory: BigInt(config.maxMemoryBytes ?? 0),
    user: config.runAs?.user ?? "",
    group: config.runAs?.group ?? "",
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

/** PROCESS_VIEW_STATUS's spec: only a program placed on a host has one, carrying only that host. */
const hostSpecs = new WeakMap<ProgramConfig, ProgramSpec>();

function hostSpecOf(config: ProgramConfig): ProgramSpec | undefined {
  if (config.host === undefined || config.host === "") return undefined;
  let spec = hostSpecs.get(config);
  if (spec === undefined) {
    spec = encodeSpecOnce(create(ProgramSpecSchema, { host: config.host }));
    hostSpecs.set(config, spec);
  }
  return spec;
}

/** The fields every view carries: what a status table prints, but for the spec. */
function tableFieldsOf(snapshot: ProcessSnapshot) {
  return {
    name: snapshot.name,
    state: stateToProto(snapshot.state),
    stateReason: snapshot.stateReason,
    run: snapshot.run === undefined ? undefined : runToProto(snapshot.run),
    restarts: snapshot.restarts,
    startAttempts: snapshot.startAttempts,
    ready: snapshot.ready,
    adhoc: snapshot.adhoc,
    host: snapshot.host,
    remote: snapshot.remote,
    nextRetryAt: timestamp(snapshot.nextRetryAt),
    uptime: snapshot.uptimeMs === undefined ? undefined : msToDuration(snapshot.uptimeMs),
  };
}

/**
 * PROCESS_VIEW_BASIC: the spec carries only name and host; PROCESS_VIEW_STATUS: what a status
 * table prints, nothing more (process_manager.proto lists the fields; a cold CLI pays for every
 * message it decodes).
 */
export function processToProto(snapshot: ProcessSnapshot, view: ProcessView = ProcessView.UNSPECIFIED): ProcessInfo {
  if (view === ProcessView.STATUS) return create(ProcessInfoSchema, { ...tableFieldsOf(snapshot), spec: hostSpecOf(snapshot.config) });
  const spec = view === ProcessView.BASIC ? basicSpecOf(snapshot.config) : programSpecToProto(snapshot.config);
  return create(ProcessInfoSchema, {
    ...tableFieldsOf(snapshot),
    stateSince: timestamp(snapshot.stateSince),
    spec,
    labels: snapshot.config.labels,
    readinessProbe: probeStatusToProto(snapshot.readinessProbe),
    livenessProbe: probeStatusToProto(snapshot.livenessProbe),
  });
}

export function programResultToProto(result: ProgramResult, view: ProcessView = ProcessView.UNSPECIFIED): ProtoProgramResult {
  const error = result.error === undefined ? undefined : toServerError(result.error);
  return create(ProgramResultSchema, {
    name: result.name,
    ok: result.ok,
    code: error?.code ?? 0,
    error: error?.details ?? "",
    process: processToProto(result.process, view),
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
