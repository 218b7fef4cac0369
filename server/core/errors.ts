// Typed domain errors of the core. The rpc layer maps them to gRPC status codes in one place
// (server/rpc/errors.ts); the core never knows about gRPC.

/** Base class: every error the core throws on purpose is a CorralError. */
export abstract class CorralError extends Error {
  abstract readonly kind: "not_found" | "invalid_argument" | "wrong_state" | "already_exists" | "timeout" | "permission_denied" | "unauthenticated" | "resource_exhausted" | "internal";
}

/** An unknown program, run, task or pid. */
export class NotFoundError extends CorralError {
  readonly kind = "not_found";
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} "${id}" not found`);
    this.name = "NotFoundError";
  }
}

/** Bad input: names the field, the value given and the rule it broke. */
export class InvalidArgumentError extends CorralError {
  readonly kind = "invalid_argument";
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid ${field}=${formatValue(value)}: ${rule}`);
    this.name = "InvalidArgumentError";
  }
}

/**
 * Why a WrongStateError refused, for clients that test for it (QMI's lock and start answers): sent as the
 * `corral-reason` trailer with FAILED_PRECONDITION.
 */
export type WrongStateReason = "task_locked" | "lock_not_holder" | "task_already_started";

/** The operation does not fit the current state (already running, not running, locked...). */
export class WrongStateError extends CorralError {
  readonly kind = "wrong_state";
  constructor(
    message: string,
    readonly reason?: WrongStateReason,
  ) {
    super(message);
    this.name = "WrongStateError";
  }
}

export class AlreadyExistsError extends CorralError {
  readonly kind = "already_exists";
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} "${id}" already exists`);
    this.name = "AlreadyExistsError";
  }
}

/** A wait did not finish in time; the operation itself may still go on. */
export class TimeoutError extends CorralError {
  readonly kind = "timeout";
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

export class PermissionDeniedError extends CorralError {
  readonly kind = "permission_denied";
  constructor(message: string) {
    super(message);
    this.name = "PermissionDeniedError";
  }
}

/** The caller did not prove who it is (no, malformed or unknown credentials). */
export class UnauthenticatedError extends CorralError {
  readonly kind = "unauthenticated";
  constructor(message: string) {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** The host ran out of something the operation needs: disk space, open files. */
export class ResourceExhaustedError extends CorralError {
  readonly kind = "resource_exhausted";
  constructor(
    message: string,
    /** The OS error code: ENOSPC, EDQUOT, EMFILE, ENFILE. */
    readonly errno: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "ResourceExhaustedError";
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
