// Typed domain errors of the core. The rpc layer maps them to gRPC status codes in one place
// (server/rpc/errors.ts); the core never knows about gRPC.

/** What a precondition failure is about (google.rpc.PreconditionFailure's violation, in core words). */
export interface Precondition {
  /** The kind of precondition, e.g. "STATE", "LOCK", "DEPENDENCY". */
  type: string;
  /** What it is about, e.g. "program/web" or "task/cal". */
  subject: string;
  description: string;
}

/** What an error is about (google.rpc.ResourceInfo, in core words). */
export interface Resource {
  /** "program", "task", "task type", "run", "process", ... */
  type: string;
  name: string;
}

/**
 * Base class: every error the core throws on purpose is a CorralError. `reason` is a stable,
 * machine-readable UPPER_SNAKE word (ErrorInfo.reason on the wire; README lists them) and
 * `metadata` its string facts; clients branch on those, never on the message.
 */
export abstract class CorralError extends Error {
  abstract readonly kind:
    | "not_found"
    | "invalid_argument"
    | "wrong_state"
    | "already_exists"
    | "timeout"
    | "permission_denied"
    | "unauthenticated"
    | "resource_exhausted"
    | "internal";
  abstract readonly reason: string;
  metadata: Record<string, string> = {};
  resource?: Resource;
  precondition?: Precondition;
}

/** Stable reasons of NotFoundError, by what was not found. */
const NOT_FOUND_REASONS: Record<string, string> = {
  program: "PROGRAM_NOT_FOUND",
  task: "TASK_NOT_FOUND",
  "task type": "TASK_TYPE_NOT_FOUND",
  process: "PROCESS_NOT_FOUND",
  "monitored run": "RUN_NOT_FOUND",
  host: "HOST_NOT_FOUND",
};

function resourceReason(what: string, suffix: string): string {
  const known = NOT_FOUND_REASONS[what];
  if (known !== undefined && suffix === "NOT_FOUND") return known;
  // "method of task type ..." and other phrases: their first word names the resource.
  const word = /^[a-z]+/i.exec(what)?.[0]?.toUpperCase() ?? "RESOURCE";
  return `${word}_${suffix}`;
}

/** An unknown program, run, task or pid. */
export class NotFoundError extends CorralError {
  readonly kind = "not_found";
  readonly reason: string;
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} "${id}" not found`);
    this.name = "NotFoundError";
    this.reason = resourceReason(what, "NOT_FOUND");
    const type = /^method of/.test(what) ? "method" : what;
    this.resource = { type, name: id };
    this.metadata = { [type.replace(/ /g, "_")]: id };
  }
}

/** Bad input: names the field, the value given and the rule it broke. */
export class InvalidArgumentError extends CorralError {
  readonly kind = "invalid_argument";
  readonly reason = "INVALID_ARGUMENT";
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid ${field}=${formatValue(value)}: ${rule}`);
    this.name = "InvalidArgumentError";
    this.metadata = { field };
  }
}

/**
 * The operation does not fit the current state (already running, not running, locked...).
 * `reason` says which (ALREADY_RUNNING, TASK_LOCKED, ...); `facts` become ErrorInfo metadata
 * and, with `subject`, a PreconditionFailure violation ("program/web").
 */
export class WrongStateError extends CorralError {
  readonly kind = "wrong_state";
  constructor(
    message: string,
    readonly reason = "WRONG_STATE",
    facts: { subject?: string; type?: string; metadata?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "WrongStateError";
    this.metadata = facts.metadata ?? {};
    if (facts.subject !== undefined) {
      this.precondition = { type: facts.type ?? "STATE", subject: facts.subject, description: message };
      const [type, ...name] = facts.subject.split("/");
      this.resource = { type: type ?? facts.subject, name: name.join("/") };
    }
  }
}

/**
 * A start that ended FATAL: the program gave up (start retries used up, or the restart limit
 * hit). Carries the state reason and the last run, so the caller sees why without a second call.
 */
export class ProgramFatalError extends WrongStateError {
  constructor(
    readonly program: string,
    readonly stateReason: string,
    readonly lastRun: { runId: number; pid: number; exitCode?: number; exitSignal?: string; spawnError?: string } | undefined,
  ) {
    const run = lastRun;
    const how = !run
      ? ""
      : run.spawnError
        ? `; last run ${run.runId} could not spawn: ${run.spawnError}`
        : `; last run ${run.runId} (pid ${run.pid}) ${run.exitSignal ? `was killed by ${run.exitSignal}` : `exited with code ${run.exitCode ?? "?"}`}`;
    const metadata: Record<string, string> = { program, state: "FATAL", state_reason: stateReason };
    if (run) {
      metadata.run_id = String(run.runId);
      metadata.pid = String(run.pid);
      if (run.exitCode !== undefined) metadata.exit_code = String(run.exitCode);
      if (run.exitSignal) metadata.exit_signal = run.exitSignal;
      if (run.spawnError) metadata.spawn_error = run.spawnError;
    }
    super(`${program} is FATAL: ${stateReason}${how}`, "PROGRAM_FATAL", { subject: `program/${program}`, metadata });
    this.name = "ProgramFatalError";
  }
}

/** A stop whose group kept members after SIGKILL (e.g. in uninterruptible sleep): not gone, and said so. */
export class SurvivorsError extends WrongStateError {
  constructor(
    readonly program: string,
    readonly survivors: number[],
  ) {
    super(`${program}: ${survivors.length} process(es) survived SIGKILL: ${survivors.join(", ")}`, "PROCESSES_SURVIVED", {
      subject: `program/${program}`,
      metadata: { program, survivors: survivors.join(",") },
    });
    this.name = "SurvivorsError";
  }
}

export class AlreadyExistsError extends CorralError {
  readonly kind = "already_exists";
  readonly reason: string;
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} "${id}" already exists`);
    this.name = "AlreadyExistsError";
    this.reason = resourceReason(what, "ALREADY_EXISTS");
    this.resource = { type: what, name: id };
    this.metadata = { [what.replace(/ /g, "_")]: id };
  }
}

/** A wait did not finish in time; the operation itself may still go on. */
export class TimeoutError extends CorralError {
  readonly kind = "timeout";
  readonly reason = "TIMEOUT";
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

export class PermissionDeniedError extends CorralError {
  readonly kind = "permission_denied";
  constructor(
    message: string,
    readonly reason = "PERMISSION_DENIED",
  ) {
    super(message);
    this.name = "PermissionDeniedError";
  }
}

/** The caller did not prove who it is (no, malformed or unknown credentials). */
/** Why a caller is not let in: ErrorInfo.reason of an UNAUTHENTICATED call (README lists them). */
export type UnauthenticatedReason = "TOKEN_INVALID" | "TOKEN_MALFORMED" | "CLIENT_NOT_MAPPED" | "NO_CREDENTIALS";

export class UnauthenticatedError extends CorralError {
  readonly kind = "unauthenticated";
  constructor(
    message: string,
    readonly reason: UnauthenticatedReason,
  ) {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** The host ran out of something the operation needs: disk space, open files. */
export class ResourceExhaustedError extends CorralError {
  readonly kind = "resource_exhausted";
  readonly reason = "RESOURCE_EXHAUSTED";
  constructor(
    message: string,
    /** The OS error code: ENOSPC, EDQUOT, EMFILE, ENFILE. */
    readonly errno: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ResourceExhaustedError";
    this.metadata = { errno, path };
  }
}

export function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return String(value);
  }
}
