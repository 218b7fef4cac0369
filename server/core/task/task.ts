// One task's life: created -> running -> completed | stopped | failed, or created ->
// stopped_before_start. Every state change goes through transition() (the table: task-states.ts),
// which also publishes the lifecycle signal. Settings: task-settings.ts; its ctx: task-context.ts.
import { InvalidArgumentError, TimeoutError, WrongStateError } from "../errors.js";
import { withTimeout } from "../os/abort.js";
import { readStat } from "../os/proc.js";
import { TaskLock } from "./lock.js";
import type { SignalBus } from "./signal-bus.js";
import { taskContext } from "./task-context.js";
import { TaskSettings } from "./task-settings.js";
import { checkTaskTransition, isStopError, KEPT_SIGNALS, SIGNAL_OF_STATE, toFailure } from "./task-states.js";
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
  private readonly settings: TaskSettings;
  private status: JsonValue = null;
  private error: TaskFailure | undefined;
  private outcomeReason = "";
  private readonly createdAt = new Date();
  private startedAt: Date | undefined;
  private finishedAt: Date | undefined;
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
    this.settings = new TaskSettings(name, settings, (applied) => this.publish("settings_updated", applied));
    this.finished = new Promise<void>((resolve) => (this.markFinished = resolve));
    this.lock = new TaskLock(name, {
      locked: () => this.publish("locked"),
      unlocked: (reason) => this.publish("unlocked", { reason }),
      expired: () => this.publish("lock_expired"),
    });
    this.context = taskContext(this, this.settings, this.stopController.signal);
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
      settings: this.settings.current,
      hasPendingSettings: this.settings.hasPending,
      pendingSettings: this.settings.pending,
      status: this.status,
      locked: this.lock.locked,
      lockExpiresAt: this.lock.expiresAt,
      lockHolder: this.lock.holder,
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
    checkTaskTransition(this.name, from, to);
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
    this.settings.setPending(value);
  }

  /** ctx.changeSettings: read-modify-write of the pending settings in one synchronous step. */
  changeSettings(change: (current: JsonValue) => JsonValue): JsonValue {
    if (this.isFinal) throw new WrongStateError(`task "${this.name}" is ${this.state}; it takes no more settings`);
    const proposed = change(structuredClone(this.settings.latest));
    const value = this.keeping.validateSettings ? this.keeping.validateSettings(proposed) : proposed;
    this.settings.setPending(value);
    return value;
  }

  /** Applies the pending settings; returns whether there were any. */
  applyPendingSettings(): boolean {
    return this.settings.applyPending();
  }

  /** Applies a value already taken by the task elsewhere (a worker), if it is still the pending one. */
  applySettingsFromWorker(value: JsonValue): void {
    this.settings.applyTaken(value);
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
    return this.settings.onPending(listener);
  }
}
