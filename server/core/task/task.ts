// One task's life: created -> running -> completed | stopped | failed, or created ->
// stopped_before_start. Every state change goes through transition(), which also publishes the
// lifecycle signal. Settings are "latest wins": one pending value, applied by the task.
import { InvalidArgumentError, TimeoutError, WrongStateError } from "../errors.js";
import { isAbortError, sleep, withTimeout } from "../os/abort.js";
import { readStat } from "../os/proc.js";
import { TaskLock } from "./lock.js";
import type { SignalBus } from "./signal-bus.js";
import {
  FINAL_STATES,
  STANDARD_SIGNALS,
  TaskStopError,
  type JsonValue,
  type MissedLoop,
  type TaskContext,
  type TaskFailure,
  type TaskInstance,
  type TaskSnapshot,
  type TaskState,
  type TaskTypeEntry,
} from "./types.js";

const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  created: ["running", "stopped_before_start"],
  running: ["completed", "stopped", "failed"],
  completed: [],
  stopped: [],
  failed: [],
  stopped_before_start: [],
};

/** The signal published on entering a state. */
const SIGNAL_OF_STATE: Record<TaskState, string> = {
  created: "created",
  running: "started",
  completed: "completed",
  stopped: "stopped",
  failed: "failed",
  stopped_before_start: "stopped",
};

/** Signals that change what persistence.ts keeps of a task (its state and applied settings). */
const KEPT_SIGNALS: ReadonlySet<string> = new Set(["created", "started", "stop_requested", "stopped", "completed", "failed", "settings_updated"]);

/** How a task is kept across daemon restarts, and who hears of its changes (persistence.ts). */
export interface TaskKeeping {
  restore?: boolean;
  restored?: boolean;
  /** Called after every change; urgent: save before returning (a child process was spawned). */
  onChange?: (task: Task, urgent: boolean) => void;
  /** Validates settings a task sets itself (ctx.changeSettings), like SetSettings. */
  validateSettings?: (value: JsonValue) => JsonValue;
}

/** A child process group a task started (pid + start ticks identify it on the host). */
export interface TaskChild {
  pid: number;
  startTicks: number;
}

/** How a task's run() is executed: in this thread, or (worker types) in a worker thread. */
export type TaskExecutor = (task: Task, ctx: TaskContext) => Promise<unknown>;

export class Task {
  private stateValue: TaskState = "created";
  private readonly stopController = new AbortController();
  private settings: JsonValue;
  private pending: { value: JsonValue } | undefined;
  private status: JsonValue = null;
  private error: TaskFailure | undefined;
  private outcomeReason = "";
  private readonly createdAt = new Date();
  private startedAt: Date | undefined;
  private finishedAt: Date | undefined;
  private readonly pendingListeners = new Set<() => void>();
  private markFinished: () => void = () => {};
  /** Settles when the task reaches a final state. */
  readonly finished: Promise<void>;
  readonly lock: TaskLock;
  readonly context: TaskContext;
  readonly restore: boolean;
  readonly restored: boolean;
  /** Child process groups registered by the running task (ctx.registerChild). */
  readonly children: TaskChild[] = [];

  constructor(
    readonly name: string,
    readonly type: TaskTypeEntry,
    readonly args: JsonValue,
    settings: JsonValue,
    /** undefined for worker types: the instance lives in the worker. */
    readonly instance: TaskInstance | undefined,
    private readonly bus: SignalBus,
    private readonly keeping: TaskKeeping = {},
  ) {
    this.restore = keeping.restore === true;
    this.restored = keeping.restored === true;
    this.settings = settings;
    this.finished = new Promise<void>((resolve) => (this.markFinished = resolve));
    this.lock = new TaskLock(name, {
      locked: () => this.publish("locked"),
      unlocked: (reason) => this.publish("unlocked", { reason }),
      expired: () => this.publish("lock_expired"),
    });
    this.context = this.makeContext();
    this.publish("created", { type: type.name });
  }

  get state(): TaskState {
    return this.stateValue;
  }

  get stopRequested(): boolean {
    return this.stopController.signal.aborted;
  }

  get isFinal(): boolean {
    return FINAL_STATES.has(this.stateValue);
  }

  snapshot(): TaskSnapshot {
    return {
      name: this.name,
      type: this.type.name,
      state: this.stateValue,
      stopRequested: this.stopRequested,
      args: this.args,
      settings: this.settings,
      hasPendingSettings: this.pending !== undefined,
      pendingSettings: this.pending?.value,
      status: this.status,
      locked: this.lock.locked,
      lockExpiresAt: this.lock.expiresAt,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      error: this.error,
      outcomeReason: this.outcomeReason,
      restore: this.restore,
      restored: this.restored,
    };
  }

  private transition(to: TaskState, payload: JsonValue = null): void {
    const from = this.stateValue;
    if (!TRANSITIONS[from].includes(to))
      throw new WrongStateError(`task "${this.name}" cannot go from ${from} to ${to}`, "TASK_WRONG_STATE", { subject: `task/${this.name}` });
    this.stateValue = to;
    if (to === "running") this.startedAt = new Date();
    if (FINAL_STATES.has(to)) this.finishedAt = new Date();
    this.publish(SIGNAL_OF_STATE[to], payload);
    if (FINAL_STATES.has(to)) this.markFinished();
  }

  /** Runs the task (once only); returns at once, run() goes on in the background. */
  start(execute: TaskExecutor): void {
    if (this.stateValue !== "created") {
      throw new WrongStateError(`task "${this.name}" is ${this.stateValue}; a task starts once only (create a new one)`, "TASK_ALREADY_STARTED", {
        subject: `task/${this.name}`,
        metadata: { task: this.name, state: this.stateValue },
      });
    }
    this.transition("running");
    void (async () => {
      try {
        await execute(this, this.context);
        if (this.stopRequested) this.transition("stopped");
        else this.transition("completed", this.outcomeReason ? { reason: this.outcomeReason } : null);
      } catch (error) {
        if (isStopError(error) && (this.stopRequested || error instanceof TaskStopError)) this.transition("stopped");
        else {
          this.error = toFailure(error);
          this.transition("failed", { message: this.error.message });
        }
      }
    })();
  }

  /** Asks the task to stop and returns at once; before start, the task will never run. */
  requestStop(): void {
    if (this.isFinal) return;
    if (this.stateValue === "created") {
      this.stopController.abort(new TaskStopError());
      this.transition("stopped_before_start", { before_start: true });
      return;
    }
    if (this.stopRequested) return;
    this.stopController.abort(new TaskStopError());
    this.publish("stop_requested");
  }

  /** Waits until the task is final (or timeoutMs: TimeoutError; signal: AbortError). */
  async join(timeoutMs: number | undefined, signal?: AbortSignal): Promise<TaskSnapshot> {
    if (!this.isFinal) {
      const onTimeout = () => new TimeoutError(`task "${this.name}" is still ${this.stateValue} after ${timeoutMs} ms`);
      await withTimeout(this.finished, { timeoutMs, signal, onTimeout });
    }
    return this.snapshot();
  }

  /** Stores the pending settings (latest wins); the value has been validated by the runner. */
  setPendingSettings(value: JsonValue): void {
    this.pending = { value };
    for (const listener of [...this.pendingListeners]) {
      try {
        listener();
      } catch (error) {
        console.error(`corral: task "${this.name}": pending-settings listener failed:`, error);
      }
    }
  }

  /** ctx.changeSettings: read-modify-write of the pending settings in one synchronous step. */
  changeSettings(change: (current: JsonValue) => JsonValue): JsonValue {
    if (this.isFinal) throw new WrongStateError(`task "${this.name}" is ${this.state}; it takes no more settings`);
    const current = this.pending !== undefined ? this.pending.value : this.settings;
    const proposed = change(structuredClone(current));
    const value = this.keeping.validateSettings ? this.keeping.validateSettings(proposed) : proposed;
    this.setPendingSettings(value);
    return value;
  }

  /** Applies the pending settings; returns whether there were any. */
  applyPendingSettings(): boolean {
    if (this.pending === undefined) return false;
    this.settings = this.pending.value;
    this.pending = undefined;
    this.publish("settings_updated", this.settings);
    return true;
  }

  /** Applies a value already taken by the task elsewhere (a worker), if it is still the pending one. */
  applySettingsFromWorker(value: JsonValue): void {
    this.settings = value;
    if (this.pending !== undefined && JSON.stringify(this.pending.value) === JSON.stringify(value)) this.pending = undefined;
    this.publish("settings_updated", this.settings);
  }

  setStatus(status: JsonValue): void {
    this.status = status;
    this.publish("status_updated", status);
  }

  /** A custom signal from the task; standard names are reserved. */
  publishCustom(signal: string, payload: JsonValue = null): void {
    if (typeof signal !== "string" || signal === "" || STANDARD_SIGNALS.includes(signal)) {
      throw new InvalidArgumentError("signal", signal, `must be a non-empty name other than the standard signals (${STANDARD_SIGNALS.join(", ")})`);
    }
    this.publish(signal, payload);
  }

  /** The standard "removed" signal (the runner removes the task). */
  publishRemoved(): void {
    this.publish("removed");
  }

  private publish(signal: string, payload: JsonValue = null): void {
    this.bus.publish(this.name, signal, payload);
    // Every change is published: one place to hear the ones that are kept (not status or custom
    // signals, which a task may publish many times a second and no next daemon needs).
    if (KEPT_SIGNALS.has(signal)) this.keeping.onChange?.(this, false);
  }

  /** A child group of the running task; saved at once, so a daemon crash cannot orphan it unseen. */
  registerChild(pid: number): void {
    const startTicks = readStat(pid)?.startTicks;
    if (startTicks === undefined) return; // already gone: nothing to stop later
    this.children.push({ pid, startTicks });
    this.keeping.onChange?.(this, true);
  }

  /** A loop's missed period (loop.ts): the standard "missed_loop" signal; TERMINATE sets the outcome reason. */
  missedLoop(missed: MissedLoop): void {
    if (missed.terminate) this.outcomeReason = "missed_loop";
    this.publish("missed_loop", {
      policy: missed.policy,
      period_ms: missed.periodMs,
      late_ms: Math.round(missed.lateMs * 1000) / 1000,
      missed_slots: missed.missedSlots,
      terminate: missed.terminate,
    });
  }

  onPendingSettings(listener: () => void): () => void {
    this.pendingListeners.add(listener);
    return () => this.pendingListeners.delete(listener);
  }

  private makeContext(): TaskContext {
    const task = this;
    const stopSignal = this.stopController.signal;
    return {
      name: task.name,
      args: task.args,
      get stopRequested() {
        return stopSignal.aborted;
      },
      signal: stopSignal,
      get settings() {
        return task.settings;
      },
      get hasPendingSettings() {
        return task.pending !== undefined;
      },
      get pendingSettings() {
        return task.pending?.value;
      },
      changeSettings: (change) => task.changeSettings(change),
      sleep: (ms: number) => sleepUnlessStopped(ms, stopSignal),
      checkStop: () => {
        if (stopSignal.aborted) throw new TaskStopError();
      },
      updateSettings: () => task.applyPendingSettings(),
      onPendingSettings: (listener) => task.onPendingSettings(listener),
      setStatus: (status) => task.setStatus(status),
      publish: (signal, payload) => task.publishCustom(signal, payload ?? null),
      registerChild: (pid) => task.registerChild(pid),
      missedLoop: (missed) => task.missedLoop(missed),
    };
  }
}

/** Sleeps ms; rejects with TaskStopError at once when (or if already) the signal aborts. */
export async function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (error) {
    throw signal.aborted ? new TaskStopError() : error;
  }
}

function isStopError(error: unknown): boolean {
  if (error instanceof TaskStopError) return true;
  const name = typeof error === "object" && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === "TaskStopError" || isAbortError(error);
}

export function toFailure(error: unknown): TaskFailure {
  if (error instanceof Error) return { message: error.message || error.name, stack: error.stack ?? "" };
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    const e = error as { message: string; stack?: unknown };
    return { message: e.message, stack: typeof e.stack === "string" ? e.stack : "" };
  }
  return { message: String(error), stack: "" };
}
