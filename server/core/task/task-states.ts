// The states of a task and the transitions allowed between them (Task.transition checks this
// table), the lifecycle signal each state publishes, and how the end of a task's run() reads:
// stopped (a stop was asked, or the task stopped itself) or failed, with its failure.
import { WrongStateError } from "../errors.js";
import { isAbortError } from "../os/abort.js";
import { TaskStopError, type TaskFailure, type TaskState } from "./types.js";

const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  created: ["running", "stopped_before_start"],
  running: ["completed", "stopped", "failed"],
  completed: [],
  stopped: [],
  failed: [],
  stopped_before_start: [],
};

/** Throws on a transition the table does not allow. */
export function checkTaskTransition(task: string, from: TaskState, to: TaskState): void {
  if (!TRANSITIONS[from].includes(to))
    throw new WrongStateError(`task "${task}" cannot go from ${from} to ${to}`, "TASK_WRONG_STATE", { subject: `task/${task}` });
}

/** The signal published on entering a state. */
export const SIGNAL_OF_STATE: Record<TaskState, string> = {
  created: "created",
  running: "started",
  completed: "completed",
  stopped: "stopped",
  failed: "failed",
  stopped_before_start: "stopped",
};

/** Signals that change what persistence.ts keeps of a task (its state and applied settings). */
export const KEPT_SIGNALS: ReadonlySet<string> = new Set(["created", "started", "stop_requested", "stopped", "completed", "failed", "settings_updated"]);

/** run() ended by a stop: TaskStopError (also from a worker, by name) or an abort of the stop signal. */
export function isStopError(error: unknown): boolean {
  if (error instanceof TaskStopError) return true;
  const name = typeof error === "object" && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === "TaskStopError" || isAbortError(error);
}

/** What a failed run() threw, as a snapshot says it (an Error, an error-like object, or anything else). */
export function toFailure(error: unknown): TaskFailure {
  if (error instanceof Error) return { message: error.message || error.name, stack: error.stack ?? "" };
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    const e = error as { message: string; stack?: unknown };
    return { message: e.message, stack: typeof e.stack === "string" ? e.stack : "" };
  }
  return { message: String(error), stack: "" };
}
