// The corral.v1.TaskRunner gRPC service: each method validates its request, calls one operation
// of the TaskRunner core and maps the result. JSON values travel as google.protobuf.Value.
import { fromJson, toJson, type JsonValue as ProtoJson } from "@bufbuild/protobuf";
import { timestampFromDate, ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import type { ServiceImplementation } from "nice-grpc";
import type { TaskRunnerDefinition } from "../../gen/ts/corral/v1/task_runner_nice_grpc.js";
import { TaskState as ProtoTaskState, type TaskInfo, type TaskTypeInfo, type WatchSignalsResponse } from "../../gen/ts/corral/v1/task_runner_pb.js";
import type { TaskRunner } from "../core/task/runner.js";
import type { SignalWatchItem } from "../core/task/signal-bus.js";
import type { JsonValue, TaskSnapshot, TaskState, TaskTypeEntry } from "../core/task/types.js";
import { durationToMs, requireName, uint64ToNumber } from "./convert.js";
import { gapToProto } from "./event-to-proto.js";
import { callerOf } from "./auth.middleware.js";

export type TaskRunnerService = ServiceImplementation<typeof TaskRunnerDefinition>;

const STATE_TO_PROTO: Record<TaskState, ProtoTaskState> = {
  created: ProtoTaskState.CREATED,
  running: ProtoTaskState.RUNNING,
  completed: ProtoTaskState.COMPLETED,
  stopped: ProtoTaskState.STOPPED,
  failed: ProtoTaskState.FAILED,
  stopped_before_start: ProtoTaskState.STOPPED_BEFORE_START,
};

export function jsonFromValue(value: Value | undefined): JsonValue {
  return value === undefined ? null : (toJson(ValueSchema, value) as JsonValue);
}

export function valueFromJson(json: JsonValue | undefined): Value {
  return fromJson(ValueSchema, (json ?? null) as ProtoJson);
}

export function taskToProto(task: TaskSnapshot): TaskInfo {
  return {
    $typeName: "corral.v1.TaskInfo",
    name: task.name,
    type: task.type,
    state: STATE_TO_PROTO[task.state],
    stopRequested: task.stopRequested,
    args: valueFromJson(task.args),
    settings: valueFromJson(task.settings),
    hasPendingSettings: task.hasPendingSettings,
    status: valueFromJson(task.status),
    locked: task.locked,
    lockHolder: task.lockHolder ?? "",
    createdAt: timestampFromDate(task.createdAt),
    startedAt: task.startedAt ? timestampFromDate(task.startedAt) : undefined,
    finishedAt: task.finishedAt ? timestampFromDate(task.finishedAt) : undefined,
    error: task.error ? { $typeName: "corral.v1.TaskError", message: task.error.message, stack: task.error.stack } : undefined,
    restore: task.restore,
    restored: task.restored,
    outcomeReason: task.outcomeReason,
  };
}

function typeToProto(type: TaskTypeEntry): TaskTypeInfo {
  return {
    $typeName: "corral.v1.TaskTypeInfo",
    name: type.name,
    description: type.description,
    signals: type.signals,
    methods: type.methods,
    source: type.source,
    worker: type.worker,
    loop: type.loop,
  };
}

function signalItemToProto(item: SignalWatchItem): WatchSignalsResponse {
  if ("gap" in item) {
    return {
      $typeName: "corral.v1.WatchSignalsResponse",
      kind: { case: "gap", value: { $typeName: "corral.v1.SignalGap", ...gapToProto(item.gap) } },
    };
  }
  const s = item.signal;
  return {
    $typeName: "corral.v1.WatchSignalsResponse",
    kind: {
      case: "signal",
      value: {
        $typeName: "corral.v1.TaskSignal",
        seq: BigInt(s.seq),
        task: s.task,
        name: s.name,
        payload: valueFromJson(s.payload),
        time: timestampFromDate(s.time),
      },
    },
  };
}

export function createTaskRunnerService(runner: TaskRunner): TaskRunnerService {
  return {
    async listTaskTypes() {
      return { types: runner.listTypes().map(typeToProto) };
    },

    async createTask(request) {
      const name = requireName(request.name);
      const type = requireName(request.type, "type");
      const settings = request.settings === undefined ? undefined : jsonFromValue(request.settings);
      return { task: taskToProto(runner.create(name, type, jsonFromValue(request.args), settings, { restore: request.restore })) };
    },

    async startTask(request) {
      return { task: taskToProto(runner.start(requireName(request.name), request.token)) };
    },

    async stopTask(request) {
      return { task: taskToProto(runner.stop(requireName(request.name), request.token)) };
    },

    async joinTask(request, context) {
      const snapshot = await runner.join(requireName(request.name), {
        timeoutMs: durationToMs(request.timeout, "timeout"),
        token: request.token,
        signal: context.signal,
      });
      return { task: taskToProto(snapshot) };
    },

    async getTask(request) {
      return { task: taskToProto(runner.get(requireName(request.name))) };
    },

    async listTasks() {
      return { tasks: runner.list().map(taskToProto) };
    },

    async removeTask(request, context) {
      const snapshot = await runner.remove(requireName(request.name), {
        token: request.token,
        timeoutMs: durationToMs(request.timeout, "timeout"),
        signal: context.signal,
      });
      return { task: taskToProto(snapshot) };
    },

    async setSettings(request) {
      runner.setSettings(requireName(request.name), jsonFromValue(request.settings), request.token);
      return {};
    },

    async getSettings(request) {
      return { settings: valueFromJson(runner.getSettings(requireName(request.name))) };
    },

    async getPendingSettings(request) {
      const { pending, settings } = runner.getPendingSettings(requireName(request.name));
      return { pending, settings: pending ? valueFromJson(settings) : undefined };
    },

    async getStatus(request) {
      return { status: valueFromJson(runner.getStatus(requireName(request.name))) };
    },

    async callMethod(request) {
      const result = await runner.callMethod(requireName(request.name), requireName(request.method, "method"), jsonFromValue(request.args), request.token);
      return { result: valueFromJson(result) };
    },

    async lock(request, context) {
      const grant = await runner.lock(requireName(request.name), {
        timeoutMs: durationToMs(request.timeout, "timeout"),
        token: request.token,
        leaseMs: durationToMs(request.lease, "lease"),
        signal: context.signal,
        holder: callerOf(context),
      });
      return { granted: grant.granted, token: grant.token, expiresAt: grant.expiresAt ? timestampFromDate(grant.expiresAt) : undefined };
    },

    async unlock(request) {
      return { unlocked: runner.unlock(requireName(request.name), requireName(request.token, "token")) };
    },

    async forceUnlock(request) {
      return { wasLocked: runner.forceUnlock(requireName(request.name)) };
    },

    async isLocked(request) {
      const { locked, expiresAt, holder } = runner.isLocked(requireName(request.name));
      return { locked, expiresAt: expiresAt ? timestampFromDate(expiresAt) : undefined, holder: holder ?? "" };
    },

    async *watchSignals(request, context) {
      request.tasks.forEach((task, i) => requireName(task, `tasks[${i}]`));
      request.names.forEach((name, i) => requireName(name, `names[${i}]`));
      const items = runner.watchSignals({
        tasks: request.tasks,
        names: request.names,
        afterSeq: uint64ToNumber(request.afterSeq, "after_seq"),
        liveOnly: request.liveOnly,
        signal: context.signal,
      });
      for await (const item of items) yield signalItemToProto(item);
    },
  };
}
