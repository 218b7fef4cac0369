// Client-side helpers of the TaskRunner: JSON <-> google.protobuf.Value, and a task handle that
// remembers its lock token and sends it on every call that drives the task. join() throws
// TaskFailedError like QMI's join re-raises; refusals carry the daemon's ErrorInfo reason.
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import { ClientError, Status, type CallOptions, type Client, type Metadata } from "nice-grpc";
import { detailsOfTrailer } from "./error-details.js";
import { TaskState, type TaskInfo } from "../../gen/ts/corral/v1/task_runner_pb.js";
import type { TaskRunnerDefinition } from "../../gen/ts/corral/v1/task_runner_nice_grpc.js";

export type { JsonValue };

type TaskRunnerClientLike = Client<typeof TaskRunnerDefinition, DeadlineOptions>;
type Options = CallOptions & DeadlineOptions;

/** A plain JSON value as a google.protobuf.Value. */
export function toValue(json: JsonValue | undefined): Value {
  return fromJson(ValueSchema, json ?? null);
}

/** A google.protobuf.Value as plain JSON (unset: null). */
export function fromValue(value: Value | undefined): JsonValue {
  return value === undefined ? null : toJson(ValueSchema, value);
}

function durationInit(ms: number): { seconds: bigint; nanos: number } {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: Math.round((ms % 1000) * 1_000_000) };
}

/** Why the daemon refused with FAILED_PRECONDITION: its ErrorInfo reason (README: error reasons). */
export type RefusalReason = "TASK_LOCKED" | "LOCK_NOT_HOLDER" | "TASK_ALREADY_STARTED";
const REFUSAL_REASONS: readonly string[] = ["TASK_LOCKED", "LOCK_NOT_HOLDER", "TASK_ALREADY_STARTED"];

/** A FAILED_PRECONDITION refusal of a task call, with the daemon's reason ("" when it gave none). */
export class TaskRefusedError extends ClientError {
  constructor(
    cause: ClientError,
    readonly reason: RefusalReason | "",
  ) {
    super(cause.path, cause.code, cause.details);
    this.name = "TaskRefusedError";
  }
}

/** join() of a task that FAILED: the task's own message and stack; `task` is the whole outcome. */
export class TaskFailedError extends Error {
  /** The message of the error that ended the task. */
  readonly taskMessage: string;
  /** The stack of that error, as the daemon recorded it. */
  readonly taskStack: string;

  constructor(readonly task: TaskInfo) {
    const message = task.error?.message ?? "";
    super(`task "${task.name}" failed: ${message}`);
    this.name = "TaskFailedError";
    this.taskMessage = message;
    this.taskStack = task.error?.stack ?? "";
    if (this.taskStack) this.stack = `${this.stack ?? ""}\nCaused by the task's error: ${this.taskStack}`;
  }
}

/** One task on a daemon; after lock() it passes the lock token on every call. */
export class TaskHandle {
  constructor(
    readonly client: TaskRunnerClientLike,
    readonly name: string,
    /** The lock token sent with driving calls ("" = none). */
    public token = "",
  ) {}

  async create(type: string, args?: JsonValue, settings?: JsonValue, options?: Options): Promise<TaskInfo> {
    const response = await this.client.createTask(
      { name: this.name, type, args: toValue(args), settings: settings === undefined ? undefined : toValue(settings) },
      options,
    );
    return response.task!;
  }

  async info(options?: Options): Promise<TaskInfo> {
    return (await this.client.getTask({ name: this.name }, options)).task!;
  }

  /** Starts the task; a second start (or a lock held by another) is a TaskRefusedError (FAILED_PRECONDITION with a reason). */
  async start(options?: Options): Promise<TaskInfo> {
    return (await this.refusable((o) => this.client.startTask({ name: this.name, token: this.token }, o), options)).task!;
  }

  /** Starts the task; false (no error) when it had already been started, as a QMI user tests for. */
  async tryStart(options?: Options): Promise<boolean> {
    try {
      await this.start(options);
      return true;
    } catch (error) {
      if (error instanceof TaskRefusedError && error.reason === "TASK_ALREADY_STARTED") return false;
      throw error;
    }
  }

  async stop(options?: Options): Promise<TaskInfo> {
    return (await this.refusable((o) => this.client.stopTask({ name: this.name, token: this.token }, o), options)).task!;
  }

  /**
   * Waits until the task has finished (timeoutMs: DEADLINE_EXCEEDED after it) and returns its outcome;
   * a FAILED task throws TaskFailedError (as QMI's join re-raises), whose `task` is the outcome.
   */
  async join(timeoutMs?: number, options?: Options): Promise<TaskInfo> {
    const task = await this.outcome(timeoutMs, options);
    if (task.state === TaskState.FAILED) throw new TaskFailedError(task);
    return task;
  }

  /** Like join(), but returns a FAILED outcome instead of throwing. */
  async outcome(timeoutMs?: number, options?: Options): Promise<TaskInfo> {
    const timeout = timeoutMs === undefined ? undefined : durationInit(timeoutMs);
    return (await this.refusable((o) => this.client.joinTask({ name: this.name, token: this.token, timeout }, o), options)).task!;
  }

  async remove(timeoutMs?: number, options?: Options): Promise<TaskInfo> {
    const timeout = timeoutMs === undefined ? undefined : durationInit(timeoutMs);
    return (await this.refusable((o) => this.client.removeTask({ name: this.name, token: this.token, timeout }, o), options)).task!;
  }

  async setSettings(settings: JsonValue, options?: Options): Promise<void> {
    await this.refusable((o) => this.client.setSettings({ name: this.name, settings: toValue(settings), token: this.token }, o), options);
  }

  async getSettings(options?: Options): Promise<JsonValue> {
    return fromValue((await this.client.getSettings({ name: this.name }, options)).settings);
  }

  /** The pending settings, or undefined when there are none. */
  async getPendingSettings(options?: Options): Promise<JsonValue | undefined> {
    const response = await this.client.getPendingSettings({ name: this.name }, options);
    return response.pending ? fromValue(response.settings) : undefined;
  }

  async getStatus(options?: Options): Promise<JsonValue> {
    return fromValue((await this.client.getStatus({ name: this.name }, options)).status);
  }

  async call(method: string, args?: JsonValue, options?: Options): Promise<JsonValue> {
    const response = await this.refusable((o) => this.client.callMethod({ name: this.name, method, args: toValue(args), token: this.token }, o), options);
    return fromValue(response.result);
  }

  /** Locks the task (waiting up to timeoutMs); on success the handle keeps the token. */
  async lock(opts: { timeoutMs?: number; leaseMs?: number; token?: string } = {}, options?: Options): Promise<boolean> {
    const response = await this.client.lock(
      {
        name: this.name,
        token: opts.token ?? this.token,
        timeout: opts.timeoutMs === undefined ? undefined : durationInit(opts.timeoutMs),
        lease: opts.leaseMs === undefined ? undefined : durationInit(opts.leaseMs),
      },
      options,
    );
    if (response.granted) this.token = response.token;
    return response.granted;
  }

  /** Releases the lock: true when released; false when it was not locked or is held by another token (QMI's answer). */
  async unlock(options?: Options): Promise<boolean> {
    return (await this.unlockOutcome(options)) === "unlocked";
  }

  /** Releases the lock and says what happened; the daemon answers a non-holder FAILED_PRECONDITION (reason lock_not_holder). */
  async unlockOutcome(options?: Options): Promise<"unlocked" | "not_locked" | "not_holder"> {
    if (!this.token) return (await this.isLocked(options)) ? "not_holder" : "not_locked";
    try {
      const response = await this.refusable((o) => this.client.unlock({ name: this.name, token: this.token }, o), options);
      this.token = "";
      return response.unlocked ? "unlocked" : "not_locked";
    } catch (error) {
      if (error instanceof TaskRefusedError && error.reason === "LOCK_NOT_HOLDER") return "not_holder";
      throw error;
    }
  }

  /** Releases the lock whoever holds it (an operator's escape hatch); returns whether it was locked. */
  async forceUnlock(options?: Options): Promise<boolean> {
    const response = await this.client.forceUnlock({ name: this.name }, options);
    this.token = "";
    return response.wasLocked;
  }

  /** Runs a call, turning FAILED_PRECONDITION into TaskRefusedError with the ErrorInfo reason. */
  private async refusable<T>(call: (options: Options) => Promise<T>, options?: Options): Promise<T> {
    let trailer: Metadata | undefined;
    const onTrailer = (metadata: Metadata) => {
      trailer = metadata;
      options?.onTrailer?.(metadata);
    };
    try {
      return await call({ ...options, onTrailer });
    } catch (error) {
      if (error instanceof ClientError && error.code === Status.FAILED_PRECONDITION) {
        const reason = detailsOfTrailer(trailer)?.reason ?? "";
        throw new TaskRefusedError(error, REFUSAL_REASONS.includes(reason) ? (reason as RefusalReason) : "");
      }
      throw error;
    }
  }

  async isLocked(options?: Options): Promise<boolean> {
    return (await this.client.isLocked({ name: this.name }, options)).locked;
  }
}
