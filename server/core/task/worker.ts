// Runs a task type marked `static worker = true` in a worker thread, so a CPU-bound run() cannot
// freeze the daemon. The stop flag is shared memory (a busy task sees it without yielding), and
// pending settings go through a port the task drains synchronously in updateSettings().
import { MessageChannel, Worker } from "node:worker_threads";
import { onAbort } from "../os/abort.js";
import type { Task, TaskExecutor } from "./task.js";
import { TaskStopError, type JsonValue, type MissedLoop, type TaskContext } from "./types.js";

/** Messages from the worker to the daemon. */
export type FromWorker =
  | { type: "status"; status: JsonValue }
  | { type: "publish"; signal: string; payload: JsonValue }
  | { type: "applied"; settings: JsonValue }
  | { type: "missed_loop"; missed: MissedLoop }
  | { type: "done" }
  | { type: "failed"; name: string; message: string; stack: string };

/** Messages from the daemon to the worker (on parentPort; settings go on their own port). */
export type ToWorker = { type: "stop" } | { type: "pending" };

export interface WorkerData {
  modulePath: string;
  exportName: string;
  name: string;
  args: JsonValue;
  settings: JsonValue;
  stopFlag: SharedArrayBuffer;
}

const ENTRY = new URL("./worker-entry.js", import.meta.url);

export const runInWorker: TaskExecutor = (task: Task, ctx: TaskContext) =>
  new Promise<void>((resolve, reject) => {
    const { modulePath, exportName } = task.type;
    if (!modulePath || !exportName) {
      reject(new Error(`task type "${task.type.name}" has no module to load in a worker`));
      return;
    }
    const stopFlag = new SharedArrayBuffer(4);
    const flag = new Int32Array(stopFlag);
    const settingsChannel = new MessageChannel();
    const data: WorkerData = { modulePath, exportName, name: task.name, args: task.args, settings: ctx.settings, stopFlag };
    const worker = new Worker(ENTRY, {
      workerData: { ...data, settingsPort: settingsChannel.port2 },
      transferList: [settingsChannel.port2],
    });
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      removeOnStop();
      settingsChannel.port1.close();
      if (error === undefined) resolve();
      else reject(error);
    };
    const sendPending = () => {
      const pending = task.snapshot().pendingSettings;
      if (pending === undefined) return;
      settingsChannel.port1.postMessage(pending);
      worker.postMessage({ type: "pending" } satisfies ToWorker);
    };
    const unsubscribe = ctx.onPendingSettings(sendPending);
    sendPending();
    const removeOnStop = onAbort(ctx.signal, () => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      worker.postMessage({ type: "stop" } satisfies ToWorker);
    });

    worker.on("message", (message: FromWorker) => {
      switch (message.type) {
        case "status":
          ctx.setStatus(message.status);
          return;
        case "publish":
          try {
            ctx.publish(message.signal, message.payload);
          } catch (error) {
            console.error(`corral: task "${task.name}":`, error instanceof Error ? error.message : error);
          }
          return;
        case "applied":
          task.applySettingsFromWorker(message.settings);
          return;
        case "missed_loop":
          task.missedLoop(message.missed);
          return;
        case "done":
          finish();
          return;
        case "failed":
          finish(message.name === "TaskStopError" ? new TaskStopError() : Object.assign(new Error(message.message), { stack: message.stack }));
          return;
      }
    });
    worker.once("error", (error) => finish(error));
    worker.once("exit", (code) => finish(code === 0 ? undefined : new Error(`task worker exited with code ${code}`)));
  });
