// The TaskRunner core: the registry of task types, the named tasks, their locks and the signal
// bus. Every operation that drives a task checks its lock first; reads never do.
import { AlreadyExistsError, CorralError, InvalidArgumentError, NotFoundError, TimeoutError, WrongStateError } from "../errors.js";
import type { LockGrant } from "./lock.js";
import { SignalBus, type SignalWatchItem, type SignalWatchOptions } from "./signal-bus.js";
import { Task, type TaskExecutor } from "./task.js";
import type { JsonValue, TaskClass, TaskContext, TaskInstance, TaskSnapshot, TaskTypeEntry } from "./types.js";

const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const DEFAULT_REMOVE_TIMEOUT_MS = 30_000;

export interface TaskRunnerOptions {
  bus?: SignalBus;
  /** Runs worker types (see worker.ts); without it, worker types run in this thread. */
  workerExecutor?: TaskExecutor;
}

export interface TaskTypeSource {
  /** "builtin" or a module path. */
  source: string;
  modulePath?: string;
  exportName?: string;
}

export class TaskRunner {
  readonly bus: SignalBus;
  private readonly types = new Map<string, TaskTypeEntry>();
  private readonly tasks = new Map<string, Task>();
  private readonly workerExecutor: TaskExecutor | undefined;
  /** Hears every change of every task, and removals (persistence.ts saves on it). */
  onTaskChange?: (task: Task | undefined, urgent: boolean) => void;

  constructor(options: TaskRunnerOptions = {}) {
    this.bus = options.bus ?? new SignalBus();
    this.workerExecutor = options.workerExecutor;
  }

  /** Registers a task class; a second type with the same name is an error. */
  registerType(taskClass: TaskClass, from: TaskTypeSource = { source: "builtin" }): TaskTypeEntry {
    if (typeof taskClass !== "function" || typeof taskClass.prototype?.run !== "function") {
      throw new InvalidArgumentError("task type", from.exportName ?? String(taskClass), "must be a class with a run(ctx) method");
    }
    const name = taskClass.taskType ?? taskClass.name;
    if (!TASK_NAME.test(name)) throw new InvalidArgumentError("task type name", name, `must match ${TASK_NAME}`);
    if (this.types.has(name)) throw new AlreadyExistsError("task type", name);
    const methods = [...(taskClass.methods ?? [])];
    for (const method of methods) {
      if (typeof (taskClass.prototype as Record<string, unknown>)[method] !== "function") {
        throw new InvalidArgumentError(`${name}.methods`, method, "is declared but the class has no such method");
      }
    }
    const entry: TaskTypeEntry = {
      name,
      description: taskClass.description ?? "",
      signals: [...(taskClass.signals ?? [])],
      methods,
      source: from.source,
      worker: taskClass.worker === true,
      loop: taskClass.loop === true,
      taskClass,
      modulePath: from.modulePath,
      exportName: from.exportName,
    };
    this.types.set(name, entry);
    return entry;
  }

  listTypes(): TaskTypeEntry[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** restore: the next daemon re-creates the task (restored: this is such a re-creation). */
  create(name: string, typeName: string, args: JsonValue = null, settings?: JsonValue, keep: { restore?: boolean; restored?: boolean } = {}): TaskSnapshot {
    if (!TASK_NAME.test(name)) {
      throw new InvalidArgumentError("name", name, "must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit");
    }
    if (this.tasks.has(name)) throw new AlreadyExistsError("task", name);
    const type = this.types.get(typeName);
    if (!type) throw new NotFoundError("task type", typeName);
    const initial = this.validateSettings(type, settings ?? type.taskClass.defaultSettings ?? null, "settings");
    let instance: TaskInstance | undefined;
    if (!type.worker) {
      try {
        instance = new type.taskClass(args);
      } catch (error) {
        throw fieldError(error, "args", args);
      }
    }
    const task = new Task(name, type, args, initial, instance, this.bus, {
      ...keep,
      onChange: (changed, urgent) => this.onTaskChange?.(changed, urgent),
      validateSettings: (value) => this.validateSettings(type, value, "settings"),
    });
    this.tasks.set(name, task);
    return task.snapshot();
  }

  start(name: string, token?: string): TaskSnapshot {
    const task = this.guarded(name, token);
    const execute: TaskExecutor =
      task.type.worker && task.type.modulePath && this.workerExecutor ? this.workerExecutor : async (t: Task, ctx: TaskContext) => runInThread(t, ctx);
    task.start(execute);
    return task.snapshot();
  }

  stop(name: string, token?: string): TaskSnapshot {
    const task = this.guarded(name, token);
    task.requestStop();
    return task.snapshot();
  }

  async join(name: string, opts: { timeoutMs?: number; token?: string; signal?: AbortSignal } = {}): Promise<TaskSnapshot> {
    return this.guarded(name, opts.token).join(opts.timeoutMs, opts.signal);
  }

  get(name: string): TaskSnapshot {
    return this.task(name).snapshot();
  }

  list(): TaskSnapshot[] {
    return [...this.tasks.values()].map((task) => task.snapshot());
  }

  /** The tasks themselves, in creation order (persistence reads children and restore flags). */
  entries(): Task[] {
    return [...this.tasks.values()];
  }

  /** Stops (if running), waits until finished (timeoutMs, default 30 s), and removes the task. */
  async remove(name: string, opts: { timeoutMs?: number; token?: string; signal?: AbortSignal } = {}): Promise<TaskSnapshot> {
    const task = this.guarded(name, opts.token);
    task.requestStop();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REMOVE_TIMEOUT_MS;
    try {
      await task.join(timeoutMs, opts.signal);
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw new TimeoutError(`task "${name}" did not stop within ${timeoutMs} ms; it was not removed (it still has its stop request)`);
      }
      throw error;
    }
    if (this.tasks.get(name) !== task) throw new NotFoundError("task", name);
    this.tasks.delete(name);
    task.lock.dispose();
    task.publishRemoved();
    this.onTaskChange?.(undefined, false);
    return task.snapshot();
  }

  setSettings(name: string, settings: JsonValue, token?: string): void {
    const task = this.guarded(name, token);
    if (task.isFinal)
      throw new WrongStateError(`task "${name}" is ${task.state}; it takes no more settings`, "TASK_FINISHED", {
        subject: `task/${name}`,
        metadata: { task: name, state: task.state },
      });
    task.setPendingSettings(this.validateSettings(task.type, settings, "settings"));
  }

  getSettings(name: string): JsonValue {
    return this.task(name).snapshot().settings;
  }

  getPendingSettings(name: string): { pending: boolean; settings: JsonValue | undefined } {
    const snapshot = this.task(name).snapshot();
    return { pending: snapshot.hasPendingSettings, settings: snapshot.pendingSettings };
  }

  getStatus(name: string): JsonValue {
    return this.task(name).snapshot().status;
  }

  async callMethod(name: string, method: string, args: JsonValue, token?: string): Promise<JsonValue> {
    const task = this.guarded(name, token);
    const instanceMethods = task.instance?.instanceMethods ?? [];
    const ofInstance = instanceMethods.includes(method) && !task.type.methods.includes(method);
    if (!task.type.methods.includes(method) && !ofInstance) {
      const declared = [...task.type.methods, ...instanceMethods];
      throw new NotFoundError(`method of task "${name}" (type "${task.type.name}"; declared: ${declared.join(", ") || "none"})`, method);
    }
    if (!task.instance)
      throw new WrongStateError(`task "${name}" runs in a worker thread; its methods cannot be called`, "TASK_IN_WORKER", { subject: `task/${name}` });
    const instance = task.instance;
    const fn = ofInstance
      ? (a: JsonValue, ctx: TaskContext) => instance.callInstanceMethod!(method, a, ctx)
      : (instance as unknown as Record<string, (args: JsonValue, ctx: TaskContext) => unknown>)[method]!;
    let result: unknown;
    try {
      result = await fn.call(instance, args, task.context);
    } catch (error) {
      if (error instanceof CorralError) throw error;
      // The type's own failure: the call was fine on the wire, the task refused it.
      throw new WrongStateError(
        `method "${method}" of task "${name}" failed: ${error instanceof Error ? error.message : String(error)}`,
        "TASK_METHOD_FAILED",
        {
          subject: `task/${name}`,
          metadata: { task: name, method },
        },
      );
    }
    return toJson(result, `result of ${method}`);
  }

  lock(name: string, opts: { timeoutMs?: number; token?: string; leaseMs?: number; signal?: AbortSignal; holder?: string }): Promise<LockGrant> {
    return this.task(name).lock.lock(opts);
  }

  unlock(name: string, token: string): boolean {
    return this.task(name).lock.unlock(token);
  }

  forceUnlock(name: string): boolean {
    return this.task(name).lock.forceUnlock();
  }

  isLocked(name: string): { locked: boolean; expiresAt: Date | undefined; holder: string | undefined } {
    const lock = this.task(name).lock;
    return { locked: lock.locked, expiresAt: lock.expiresAt, holder: lock.holder };
  }

  watchSignals(opts: SignalWatchOptions): AsyncGenerator<SignalWatchItem> {
    return this.bus.watch(opts);
  }

  /** Stops every task and waits for them (up to timeoutMs); used when the daemon shuts down. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    const tasks = [...this.tasks.values()];
    for (const task of tasks) task.requestStop();
    await Promise.allSettled(tasks.map((task) => task.join(timeoutMs)));
    for (const task of tasks) task.lock.dispose();
  }

  private task(name: string): Task {
    const task = this.tasks.get(name);
    if (!task) throw new NotFoundError("task", name);
    return task;
  }

  private guarded(name: string, token: string | undefined): Task {
    const task = this.task(name);
    task.lock.check(token || undefined);
    return task;
  }

  private validateSettings(type: TaskTypeEntry, value: JsonValue, field: string): JsonValue {
    const validate = type.taskClass.validateSettings;
    if (!validate) return value;
    try {
      const result = validate.call(type.taskClass, value);
      return result === undefined ? value : result;
    } catch (error) {
      throw fieldError(error, field, value);
    }
  }
}

async function runInThread(task: Task, ctx: TaskContext): Promise<unknown> {
  if (!task.instance) throw new Error(`task "${task.name}" has no instance`);
  return task.instance.run(ctx);
}

/** An error from a type's own code, as INVALID_ARGUMENT naming the field (error.field, under prefix). */
function fieldError(error: unknown, prefix: string, value: JsonValue): InvalidArgumentError {
  if (error instanceof InvalidArgumentError) {
    return error.field.startsWith(prefix) ? error : new InvalidArgumentError(`${prefix}.${error.field}`, error.value, error.rule);
  }
  const e = (typeof error === "object" && error !== null ? error : {}) as { field?: unknown; message?: unknown; value?: unknown };
  const message = typeof e.message === "string" ? e.message : String(error);
  if (typeof e.field === "string" && e.field !== "") {
    return new InvalidArgumentError(`${prefix}.${e.field}`, e.value ?? fieldOf(value, e.field), message);
  }
  return new InvalidArgumentError(prefix, value, message);
}

function fieldOf(value: JsonValue, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A method's result as a JSON value (undefined -> null); anything JSON cannot hold is an error. */
export function toJson(value: unknown, what: string): JsonValue {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as JsonValue;
  } catch (error) {
    throw new InvalidArgumentError(what, String(value), `is not a JSON value: ${error instanceof Error ? error.message : String(error)}`);
  }
}
