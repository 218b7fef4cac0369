// The task model's vocabulary: JSON values, the context a task's run() gets, the shape of a
// task type (a class with run(ctx), plus static declarations), states and snapshots.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A task's life: created -> running -> completed | stopped | failed; created -> stopped_before_start. */
export type TaskState = "created" | "running" | "completed" | "stopped" | "failed" | "stopped_before_start";

/** Every task state, in life order (e.g. for one metrics series per state). */
export const TASK_STATES: readonly TaskState[] = ["created", "running", "completed", "stopped", "failed", "stopped_before_start"];

export const FINAL_STATES: ReadonlySet<TaskState> = new Set(["completed", "stopped", "failed", "stopped_before_start"]);

/** Thrown by ctx.sleep (and ctx.checkStop) once a stop was requested; escaping run() it is a clean stop. */
export class TaskStopError extends Error {
  constructor() {
    super("task stop requested");
    this.name = "TaskStopError";
  }
}

/** A loop iteration that ended at or after the next due time (see loop.ts). */
export interface MissedLoop {
  policy: "IMMEDIATE" | "SKIP" | "TERMINATE";
  periodMs: number;
  lateMs: number;
  missedSlots: number;
  /** TERMINATE: the loop ends; the task completes with outcome reason "missed_loop". */
  terminate: boolean;
}

/** What run(ctx) and the methods of a task get from the runner. */
export interface TaskContext {
  /** The task's name. */
  readonly name: string;
  /** The task's constructor args. */
  readonly args: JsonValue;
  /** True once StopTask was called. */
  readonly stopRequested: boolean;
  /** Aborted when a stop is requested (pass it to fetch, timers, child processes...). */
  readonly signal: AbortSignal;
  /** The applied settings. */
  readonly settings: JsonValue;
  /** Whether SetSettings left a value that updateSettings() would apply. */
  readonly hasPendingSettings: boolean;
  /** The pending settings (not yet applied), or undefined (QMI's get_pending_settings). */
  readonly pendingSettings: JsonValue | undefined;
  /**
   * Sets new pending settings from the current ones, atomically (QMI's custom task-runner method:
   * read the pending settings, change a field, set them): change gets the pending settings, or
   * the applied ones when none are pending, and returns the new value, which is validated like
   * SetSettings and stored as pending (latest wins). Returns the stored value.
   */
  changeSettings(change: (current: JsonValue) => JsonValue): JsonValue;
  /** Sleeps ms; throws TaskStopError at once when a stop is requested (also when already requested). */
  sleep(ms: number): Promise<void>;
  /** Throws TaskStopError if a stop was requested. */
  checkStop(): void;
  /** Applies the pending settings, if any (publishes settings_updated); returns whether it did. */
  updateSettings(): boolean;
  /** Calls listener whenever SetSettings stores a pending value; returns the unsubscribe. */
  onPendingSettings(listener: () => void): () => void;
  /** Replaces the status snapshot (publishes status_updated). */
  setStatus(status: JsonValue): void;
  /** Publishes a custom signal (names of the standard signals are reserved). */
  publish(signal: string, payload?: JsonValue): void;
  /**
   * Records a child process group (leader pid) the task started, at once and durably: a task
   * cannot outlive the daemon, but its children can; after a daemon crash the next daemon stops
   * the group (checked by pid + start time). Absent in worker threads.
   */
  registerChild?(pid: number): void;
  /** Reports a missed loop period (LoopTask calls it): publishes "missed_loop"; terminate sets the outcome reason. */
  missedLoop?(missed: MissedLoop): void;
}

/** One task, made by `new Type(args)`. */
export interface TaskInstance {
  run(ctx: TaskContext): unknown;
  /** Methods this instance declares besides its type's (exec tasks: args.methods). */
  readonly instanceMethods?: readonly string[];
  /** Calls one of instanceMethods. */
  callInstanceMethod?(method: string, args: JsonValue, ctx: TaskContext): unknown;
}

/** A method declared by a type: called on the instance as `instance[name](args, ctx)`. */
export type TaskMethod = (args: JsonValue, ctx: TaskContext) => unknown;

/**
 * A task type as a module exports it: a class whose instances have run(ctx), with optional
 * static declarations. Example:
 *
 *     export class Counter {
 *       static taskType = "counter";
 *       static signals = ["tick"];
 *       static methods = ["reset"];
 *       static defaultSettings = { step: 1 };
 *       static validateSettings(value) { ...; return value; }  // throw {field, message} when bad
 *       async run(ctx) { while (!ctx.stopRequested) { ...; await ctx.sleep(100); } }
 *       reset(args, ctx) { ... }
 *     }
 */
export interface TaskClass {
  new (args: JsonValue): TaskInstance;
  readonly name: string;
  /** The type name clients use (default: the class name). */
  readonly taskType?: string;
  readonly description?: string;
  readonly signals?: readonly string[];
  readonly methods?: readonly string[];
  readonly defaultSettings?: JsonValue;
  /** Returns the settings to store, or throws; an error with a `field` names the bad field. */
  validateSettings?(settings: JsonValue): JsonValue;
  /** Run in a worker thread (CPU-heavy tasks); run() then gets a context over messages. */
  readonly worker?: boolean;
  /** Set by LoopTask. */
  readonly loop?: boolean;
}

/** A registered task type. */
export interface TaskTypeEntry {
  name: string;
  description: string;
  signals: string[];
  methods: string[];
  /** "builtin" or the module's path. */
  source: string;
  worker: boolean;
  loop: boolean;
  taskClass: TaskClass;
  /** For worker types: the module path and export name the worker imports. */
  modulePath?: string;
  exportName?: string;
}

export interface TaskFailure {
  message: string;
  stack: string;
}

export interface TaskSnapshot {
  name: string;
  type: string;
  state: TaskState;
  stopRequested: boolean;
  args: JsonValue;
  settings: JsonValue;
  hasPendingSettings: boolean;
  pendingSettings: JsonValue | undefined;
  status: JsonValue;
  locked: boolean;
  lockExpiresAt: Date | undefined;
  /** Who holds the lock (the caller's identity as the daemon named it), when locked. */
  lockHolder: string | undefined;
  createdAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  error: TaskFailure | undefined;
  /** Why a final task ended the way it did, beyond its state: "missed_loop" (a TERMINATE loop missed a period), or "". */
  outcomeReason: string;
  /** Created with restore: re-created by the next daemon (see persistence.ts). */
  restore: boolean;
  /** Re-created by this daemon from a previous daemon's saved state. */
  restored: boolean;
}

/** Signals every task may publish; custom signals may not use these names. */
export const STANDARD_SIGNALS: readonly string[] = [
  "created",
  "started",
  "stop_requested",
  "stopped",
  "completed",
  "failed",
  "removed",
  "settings_updated",
  "status_updated",
  "locked",
  "unlocked",
  "lock_expired",
  "missed_loop",
];
