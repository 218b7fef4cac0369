// Client-side helpers of the TaskRunner: JSON <-> google.protobuf.Value, and a task handle that
// remembers its lock token and sends it on every call that drives the task.
import { fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import type { CallOptions, Client } from "nice-grpc";
import type { TaskInfo } from "../../gen/ts/corral/v1/task_runner_pb.js";
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

  async start(options?: Options): Promise<TaskInfo> {
    return (await this.client.startTask({ name: this.name, token: this.token }, options)).task!;
  }

  async stop(options?: Options): Promise<TaskInfo> {
    return (await this.client.stopTask({ name: this.name, token: this.token }, options)).task!;
  }

  /** Waits until the task has finished (timeoutMs: DEADLINE_EXCEEDED after it). */
  async join(timeoutMs?: number, options?: Options): Promise<TaskInfo> {
    const timeout = timeoutMs === undefined ? undefined : durationInit(timeoutMs);
    return (await this.client.joinTask({ name: this.name, token: this.token, timeout }, options)).task!;
  }

  async remove(timeoutMs?: number, options?: Options): Promise<TaskInfo> {
    const timeout = timeoutMs === undefined ? undefined : durationInit(timeoutMs);
    return (await this.client.removeTask({ name: this.name, token: this.token, timeout }, options)).task!;
  }

  async setSettings(settings: JsonValue, options?: Options): Promise<void> {
    await this.client.setSettings({ name: this.name, settings: toValue(settings), token: this.token }, options);
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
    const response = await this.client.callMethod({ name: this.name, method, args: toValue(args), token: this.token }, options);
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

  async unlock(options?: Options): Promise<boolean> {
    const response = await this.client.unlock({ name: this.name, token: this.token }, options);
    this.token = "";
    return response.unlocked;
  }

  async isLocked(options?: Options): Promise<boolean> {
    return (await this.client.isLocked({ name: this.name }, options)).locked;
  }
}
