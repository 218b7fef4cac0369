// A program's configuration, written once: this zod schema validates a program as a config file
// (or CreateProgram, or a saved ad-hoc program) gives it, with snake_case keys and durations like
// "500ms", and its transforms produce exactly the core's ProgramConfig (core/process/types.ts).
import { resolve } from "node:path";
import { z } from "zod";
import {
  describeValue,
  duration,
  nonNegativeInt,
  parseAddress,
  parseByteSize,
  parseCommand,
  parsedBy,
  parseRegex,
  parseStopSignal,
  positiveInt,
  stringMap,
  strictObject,
} from "./values.js";
import type { BackoffConfig, LogConfig, ProbeCheck, ProbeConfig, ProgramConfig, ResourceLimits } from "../core/process/types.js";
import { streamNameProblems } from "../core/process/stream-names.js";

const backoffSchema = strictObject({
  initial: duration("1s"),
  max: duration("30s"),
  multiplier: z.number().min(1, { error: "must be >= 1" }).default(2),
  reset_after: duration("30s"),
})
  .check((ctx) => {
    if (ctx.value.max < ctx.value.initial) {
      ctx.issues.push({ code: "custom", message: "must be >= backoff.initial", input: ctx.value.max, path: ["max"] });
    }
  })
  .transform(
    (backoff): BackoffConfig => ({ initialMs: backoff.initial, maxMs: backoff.max, multiplier: backoff.multiplier, resetAfterMs: backoff.reset_after }),
  );

const logSchema = strictObject({
  max_bytes: parsedBy(parseByteSize).prefault("10MiB"),
  backups: z
    .int({ error: (issue) => `must be a whole number from 0 to 100, got ${describeValue(issue.input)}` })
    .min(0, { error: "must be from 0 to 100" })
    .max(100, { error: "must be from 0 to 100" })
    .default(5),
}).transform((log): LogConfig => ({ maxBytes: log.max_bytes, backups: log.backups }));

const PROBE_KINDS = ["tcp", "exec", "log", "grpc"] as const;

/** readiness / liveness: exactly one check (tcp, exec, log, grpc) and its timing. */
const probeSchema = strictObject({
  tcp: parsedBy(parseAddress).optional(),
  exec: parsedBy(parseCommand).optional(),
  log: z
    .preprocess(
      (input) => (typeof input === "string" ? { pattern: input } : input),
      strictObject({ pattern: parsedBy(parseRegex), stream: z.enum(["stdout", "stderr"]).optional() }),
    )
    .optional(),
  grpc: z
    .preprocess(
      (input) => (typeof input === "string" ? { address: input } : input),
      strictObject({ address: parsedBy(parseAddress), service: z.string().default("") }),
    )
    .optional(),
  period: duration("1s"),
  timeout: duration("1s"),
  initial_delay: duration("0s"),
  /** Readiness only: how long a run may stay STARTING waiting for the probe before the start counts as failed. */
  start_timeout: duration("60s"),
  success_threshold: positiveInt(1),
  failure_threshold: positiveInt(3),
})
  .check((ctx) => {
    const given = PROBE_KINDS.filter((kind) => ctx.value[kind] !== undefined);
    if (given.length !== 1) {
      const rule = given.length === 0 ? "needs one check: tcp, exec, log or grpc" : `give one check, not ${given.join(" and ")}`;
      ctx.issues.push({ code: "custom", message: rule, input: ctx.value, path: [] });
    }
    if (ctx.value.period === 0) ctx.issues.push({ code: "custom", message: "must be more than 0", input: 0, path: ["period"] });
    if (ctx.value.timeout === 0) ctx.issues.push({ code: "custom", message: "must be more than 0", input: 0, path: ["timeout"] });
    if (ctx.value.start_timeout === 0) ctx.issues.push({ code: "custom", message: "must be more than 0", input: 0, path: ["start_timeout"] });
  })
  .transform((probe): ProbeConfig => {
    const timing = {
      periodMs: probe.period,
      timeoutMs: probe.timeout,
      initialDelayMs: probe.initial_delay,
      successThreshold: probe.success_threshold,
      failureThreshold: probe.failure_threshold,
      startTimeoutMs: probe.start_timeout,
    };
    const hostPort = (address: string) => {
      const colon = address.lastIndexOf(":");
      return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(address.slice(colon + 1)) };
    };
    const check = (): ProbeCheck => {
      if (probe.tcp !== undefined) return { kind: "tcp", ...hostPort(probe.tcp) };
      if (probe.exec !== undefined) return { kind: "exec", command: probe.exec };
      if (probe.log !== undefined) return { kind: "log", pattern: probe.log.pattern, ...(probe.log.stream ? { stream: probe.log.stream } : {}) };
      const grpc = probe.grpc ?? { address: "", service: "" };
      return { kind: "grpc", address: grpc.address, service: grpc.service };
    };
    return { ...timing, check: check() };
  });

/** A size that must be more than 0 (a limit of 0 would be no limit at all, or none that lets anything run). */
const positiveSize = (what: string) =>
  parsedBy((input) => {
    const parsed = parseByteSize(input, `${what} must be more than 0; leave it out for none`);
    return parsed.ok && parsed.value === 0 ? { ok: false, rule: `must be more than 0 (leave ${what} out for no limit)` } : parsed;
  });

/** limits: what each run's cgroup allows (applied where the host has the controller, refused elsewhere: host-fit.ts). */
const limitsSchema = strictObject({
  memory: positiveSize("limits.memory").optional(),
  cpu: z
    .number({ error: (issue) => `expected a number of cores (e.g. 0.5, 1.5, 2), got ${describeValue(issue.input)}` })
    .min(0.01, { error: "must be at least 0.01 (cores)" })
    .max(4096, { error: "must be at most 4096 (cores)" })
    .optional(),
  pids: z
    .int({ error: (issue) => `must be a whole number >= 1 (processes and threads), got ${describeValue(issue.input)}` })
    .min(1, { error: "must be >= 1" })
    .max(4_194_304, { error: "must be <= 4194304 (the kernel's pid_max limit)" })
    .optional(),
}).transform(
  (limits): ResourceLimits => ({
    ...(limits.memory !== undefined ? { memoryBytes: limits.memory } : {}),
    ...(limits.cpu !== undefined ? { cpuCores: limits.cpu } : {}),
    ...(limits.pids !== undefined ? { pids: limits.pids } : {}),
  }),
);

/** A user or group: a name (as in /etc/passwd, /etc/group) or a numeric id (a number, or its digits). */
const ACCOUNT = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/;
const account = (what: "user" | "group") => {
  const rule = (input: unknown) => `expected a ${what} name or a numeric id (0-4294967294), got ${describeValue(input)}`;
  return z.union([z.int().min(0).max(4_294_967_294), z.string().regex(ACCOUNT, { error: (issue) => rule(issue.input) })], {
    error: (issue) => rule(issue.input),
  });
};

const DEPENDENCY_CONDITIONS = ["started", "ready", "completed", "completed_successfully"] as const;

/** depends_on: {db: ready, migrate: completed_successfully}, or a list of names (condition started). */
const dependsOnSchema = z.preprocess(
  (input) =>
    Array.isArray(input) && input.every((name) => typeof name === "string") ? Object.fromEntries(input.map((name: string) => [name, "started"])) : input,
  z.record(
    z.string(),
    z.enum(DEPENDENCY_CONDITIONS, { error: (issue) => `must be one of ${DEPENDENCY_CONDITIONS.join(", ")}; got ${describeValue(issue.input)}` }),
    {
      error: (issue) =>
        issue.code === "invalid_type"
          ? `expected a mapping of program names to conditions (${DEPENDENCY_CONDITIONS.join(", ")}), got ${describeValue(issue.input)}`
          : undefined,
    },
  ),
);

/** What the schema gives: the core's ProgramConfig but for its name (the key it is listed under) and with cwd as written. */
export type ProgramSettings = Omit<ProgramConfig, "name" | "cwd"> & { cwd?: string };

/**
 * One program's settings (everything but its name, which is the key it is listed under). The
 * output is the core's shape: durations in ms, camelCase, optional parts absent when not given;
 * cwd stays as written until programConfig() resolves it.
 */
export const programSchema = strictObject({
  command: parsedBy(parseCommand),
  /** Relative to the config file's directory; programConfig() makes it absolute. */
  cwd: z.string().min(1, { error: "must not be empty (leave it out to use the config file's directory)" }).optional(),
  env: stringMap("variable").default({}),
  autostart: z.boolean().default(true),
  autorestart: z.enum(["never", "on-failure", "always"]).default("on-failure"),
  exitcodes: z
    .array(
      z
        .int({ error: (issue) => `exit codes are whole numbers from 0 to 255, got ${describeValue(issue.input)}` })
        .min(0)
        .max(255, { error: "exit codes are from 0 to 255" }),
    )
    .default([0]),
  startsecs: duration("1s"),
  startretries: nonNegativeInt(3),
  stop_signal: parsedBy(parseStopSignal).prefault("SIGTERM"),
  stop_timeout: duration("10s"),
  labels: stringMap("label").default({}),
  description: z.string().default(""),
  stdin: z.boolean().default(false),
  backoff: backoffSchema.prefault({}),
  max_restarts: nonNegativeInt(0),
  restart_window: duration("60s"),
  log: logSchema.prefault({}),
  readiness: probeSchema.optional(),
  liveness: probeSchema.optional(),
  depends_on: dependsOnSchema.default({}),
  /** The host the program runs on (a daemon's host name); another host's program is listed, never started. */
  host: z.string().min(1, { error: "must not be empty (leave it out for this host)" }).optional(),
  /** gaffer's redirect_output: labels for stdout, then stderr (core/process/stream-names.ts has the rules). */
  redirect_output: z.array(z.string()).default([]),
  /** gaffer's custom_streams: an extra output fd of the child per name (3, 4, ...), logged like stdout. */
  custom_streams: z.array(z.string()).default([]),
  /** gaffer's detach: the daemon's shutdown leaves the run running for the next daemon to adopt. */
  detach: z.boolean().default(false),
  limits: limitsSchema.optional(),
  /** PM2's max_memory_restart: restart the run when its tree's RSS passes this (sampled; works without cgroup controllers). */
  max_memory: positiveSize("max_memory").optional(),
  /** Run as this user (name or uid; gaffer's uid): the daemon must run as root. */
  user: account("user").optional(),
  /** gaffer's spelling of user: a numeric uid (or a name). */
  uid: account("user").optional(),
  /** The group (name or gid; default: the user's primary group). Needs user or uid. */
  gid: account("group").optional(),
})
  .check((ctx) => {
    if (ctx.value.user !== undefined && ctx.value.uid !== undefined) {
      ctx.issues.push({ code: "custom", message: "give user or uid, not both (they say the same thing)", input: ctx.value.uid, path: ["uid"] });
    }
    if (ctx.value.gid !== undefined && ctx.value.user === undefined && ctx.value.uid === undefined) {
      ctx.issues.push({ code: "custom", message: "needs user (or uid): the group of which user?", input: ctx.value.gid, path: ["gid"] });
    }
    if (ctx.value.max_restarts > 0 && ctx.value.restart_window === 0) {
      ctx.issues.push({ code: "custom", message: "must be more than 0 when max_restarts is set", input: 0, path: ["restart_window"] });
    }
    for (const problem of streamNameProblems({ redirectOutput: ctx.value.redirect_output, customStreams: ctx.value.custom_streams })) {
      ctx.issues.push({ code: "custom", message: problem.message, input: problem.value, path: problem.path });
    }
  })
  .transform(
    (program): ProgramSettings => ({
      command: program.command,
      cwd: program.cwd,
      env: program.env,
      autostart: program.autostart,
      autorestart: program.autorestart,
      exitcodes: program.exitcodes,
      startsecsMs: program.startsecs,
      startretries: program.startretries,
      stopSignal: program.stop_signal,
      stopTimeoutMs: program.stop_timeout,
      labels: program.labels,
      backoff: program.backoff,
      log: program.log,
      maxRestarts: program.max_restarts,
      restartWindowMs: program.restart_window,
      stdin: program.stdin,
      description: program.description,
      ...(program.readiness ? { readiness: program.readiness } : {}),
      ...(program.liveness ? { liveness: program.liveness } : {}),
      ...(Object.keys(program.depends_on).length > 0 ? { dependsOn: program.depends_on } : {}),
      ...(program.host !== undefined ? { host: program.host } : {}),
      ...(program.redirect_output.length > 0 ? { redirectOutput: program.redirect_output } : {}),
      ...(program.custom_streams.length > 0 ? { customStreams: program.custom_streams } : {}),
      ...(program.detach ? { detach: true } : {}),
      ...(program.limits !== undefined && Object.keys(program.limits).length > 0 ? { limits: program.limits } : {}),
      ...(program.max_memory !== undefined ? { maxMemoryBytes: program.max_memory } : {}),
      ...runAsOf(program.user ?? program.uid, program.gid, program.user === undefined && program.uid !== undefined),
    }),
  );

function runAsOf(user: string | number | undefined, group: string | number | undefined, asUid: boolean): Pick<ProgramConfig, "runAs"> {
  if (user === undefined) return {};
  return { runAs: { user: String(user), ...(group !== undefined ? { group: String(group) } : {}), ...(asUid ? { key: "uid" as const } : {}) } };
}

/** The program named `name` with these settings; a relative (or absent) cwd is resolved against baseDir. */
export function programConfig(name: string, settings: ProgramSettings, baseDir: string): ProgramConfig {
  return { name, ...settings, cwd: resolve(baseDir, settings.cwd ?? ".") };
}
