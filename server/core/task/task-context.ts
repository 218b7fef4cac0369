// The TaskContext a task's run() is given: its name and args, its stop signal (and a sleep that a
// stop cuts short), its settings, status and signals, its child processes and missed loops; every
// call goes to the Task, which keeps the state.
import type { Task } from "./task.js";
import type { TaskSettings } from "./task-settings.js";
import { sleep } from "../os/abort.js";
import { TaskStopError, type TaskContext } from "./types.js";

/** Sleeps ms; rejects with TaskStopError at once when (or if already) the signal aborts. */
export async function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (error) {
    throw signal.aborted ? new TaskStopError() : error;
  }
}

export function taskContext(task: Task, settings: TaskSettings, stopSignal: AbortSignal): TaskContext {
  return {
    name: task.name,
    args: task.args,
    get stopRequested() {
      return stopSignal.aborted;
    },
    signal: stopSignal,
    get settings() {
      return settings.current;
    },
    get hasPendingSettings() {
      return settings.hasPending;
    },
    get pendingSettings() {
      return settings.pending;
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
