// Wire <-> core for live configuration: a ProgramSpec (CreateProgram) becomes the program as a
// config file would hold it, so the config schema validates it; a diff becomes a ConfigDiff.
import { create } from "@bufbuild/protobuf";
import {
  ConfigDiffSchema,
  DependencyCondition,
  LogStream,
  RestartPolicy,
  type ConfigDiff,
  type ProbeSpec,
  type ProgramSpec,
} from "../../gen/ts/corral/v1/process_manager_pb.js";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { AppliedConfig } from "../core/process/live-config.js";
import { durationToMs } from "./convert.js";

const RESTART_POLICIES: Partial<Record<RestartPolicy, string>> = {
  [RestartPolicy.NEVER]: "never",
  [RestartPolicy.ON_FAILURE]: "on-failure",
  [RestartPolicy.ALWAYS]: "always",
};

const CONDITIONS: Partial<Record<DependencyCondition, string>> = {
  [DependencyCondition.UNSPECIFIED]: "started",
  [DependencyCondition.STARTED]: "started",
  [DependencyCondition.READY]: "ready",
  [DependencyCondition.COMPLETED]: "completed",
  [DependencyCondition.COMPLETED_SUCCESSFULLY]: "completed_successfully",
};

/** A wire duration as the config file writes one ("1500ms"), checked as any wire duration is. */
function durationInput(value: Duration | undefined, field: string): string | undefined {
  const ms = durationToMs(value, field);
  return ms === undefined ? undefined : `${ms}ms`;
}

/**
 * The spec as config-file input (snake_case keys). Proto3 scalars carry no presence, so a
 * zero value (0, "", an empty list or map, UNSPECIFIED) means "not given" and takes the config
 * file's default; durations and sub-messages are given when set. Unknown enum numbers are
 * passed through, for the schema to refuse them with its usual rule.
 */
export function programInputFromSpec(spec: ProgramSpec): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const put = (key: string, value: unknown, given: boolean) => {
    if (given) input[key] = value;
  };
  const duration = (key: string, value: Duration | undefined) => {
    const text = durationInput(value, `spec.${key}`);
    if (text !== undefined) input[key] = text;
  };
  put("command", [...spec.command], spec.command.length > 0);
  put("cwd", spec.cwd, spec.cwd !== "");
  put("env", { ...spec.env }, Object.keys(spec.env).length > 0);
  put("autostart", spec.autostart, spec.autostart);
  put("autorestart", RESTART_POLICIES[spec.autorestart] ?? spec.autorestart, spec.autorestart !== RestartPolicy.UNSPECIFIED);
  put("exitcodes", [...spec.exitcodes], spec.exitcodes.length > 0);
  duration("startsecs", spec.startsecs);
  put("startretries", spec.startretries, spec.startretries !== 0);
  put("stop_signal", spec.stopSignal, spec.stopSignal !== "");
  duration("stop_timeout", spec.stopTimeout);
  put("labels", { ...spec.labels }, Object.keys(spec.labels).length > 0);
  if (spec.backoff) {
    const backoff: Record<string, unknown> = {};
    for (const [key, value] of [
      ["initial", spec.backoff.initial],
      ["max", spec.backoff.max],
      ["reset_after", spec.backoff.resetAfter],
    ] as const) {
      const text = durationInput(value, `spec.backoff.${key}`);
      if (text !== undefined) backoff[key] = text;
    }
    if (spec.backoff.multiplier !== 0) backoff.multiplier = spec.backoff.multiplier;
    input.backoff = backoff;
  }
  if (spec.log) {
    const log: Record<string, unknown> = {};
    if (spec.log.maxBytes !== 0n) log.max_bytes = Number(spec.log.maxBytes);
    if (spec.log.backups !== 0) log.backups = spec.log.backups;
    input.log = log;
  }
  put("max_restarts", spec.maxRestarts, spec.maxRestarts !== 0);
  duration("restart_window", spec.restartWindow);
  put("stdin", spec.stdin, spec.stdin);
  put("description", spec.description, spec.description !== "");
  put("host", spec.host, spec.host !== "");
  put("redirect_output", [...spec.redirectOutput], spec.redirectOutput.length > 0);
  put("custom_streams", [...spec.customStreams], spec.customStreams.length > 0);
  put("detach", spec.detach, spec.detach);
  if (spec.limits) {
    const limits: Record<string, unknown> = {};
    if (spec.limits.memory !== 0n) limits.memory = Number(spec.limits.memory);
    if (spec.limits.cpu !== 0) limits.cpu = spec.limits.cpu;
    if (spec.limits.pids !== 0) limits.pids = spec.limits.pids;
    input.limits = limits;
  }
  put("max_memory", Number(spec.maxMemory), spec.maxMemory !== 0n);
  // Numeric: an id (uid, gid), as the config file would hold it.
  put("user", /^\d+$/.test(spec.user) ? Number(spec.user) : spec.user, spec.user !== "");
  put("gid", /^\d+$/.test(spec.group) ? Number(spec.group) : spec.group, spec.group !== "");
  if (spec.readiness) input.readiness = probeInput(spec.readiness, "readiness");
  if (spec.liveness) input.liveness = probeInput(spec.liveness, "liveness");
  put(
    "depends_on",
    Object.fromEntries(Object.entries(spec.dependsOn).map(([name, condition]) => [name, CONDITIONS[condition] ?? condition])),
    Object.keys(spec.dependsOn).length > 0,
  );
  return input;
}

function probeInput(probe: ProbeSpec, field: string): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const check = probe.check;
  if (check.case === "tcp") input.tcp = check.value;
  else if (check.case === "exec") input.exec = [...check.value.command];
  else if (check.case === "log") {
    const stream = check.value.stream === LogStream.STDOUT ? "stdout" : check.value.stream === LogStream.STDERR ? "stderr" : undefined;
    input.log = stream === undefined ? { pattern: check.value.pattern } : { pattern: check.value.pattern, stream };
  } else if (check.case === "grpc") input.grpc = { address: check.value.address, service: check.value.service };
  for (const [key, value] of [
    ["period", probe.period],
    ["timeout", probe.timeout],
    ["initial_delay", probe.initialDelay],
    ["start_timeout", probe.startTimeout],
  ] as const) {
    const text = durationInput(value, `spec.${field}.${key}`);
    if (text !== undefined) input[key] = text;
  }
  if (probe.successThreshold !== 0) input.success_threshold = probe.successThreshold;
  if (probe.failureThreshold !== 0) input.failure_threshold = probe.failureThreshold;
  return input;
}

export function configDiffToProto(applied: AppliedConfig): ConfigDiff {
  return create(ConfigDiffSchema, {
    added: applied.added,
    changed: applied.changed,
    removed: applied.removed,
    unchanged: applied.unchanged,
    restarted: applied.restarted,
    changes: applied.changes.map((change) => ({ name: change.name, fields: change.fields, needsRestart: change.needsRestart })),
  });
}
