// The worker-thread side of a worker task type: loads the type from its module, builds a
// context over shared memory and messages, runs run(ctx), and reports how it ended.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { TaskStopError, type JsonValue, type TaskClass, type TaskContext } from "./types.js";
import type { FromWorker, ToWorker, WorkerData } from "./worker.js";

const data = workerData as WorkerData & { settingsPort: MessagePort };
const port = parentPort!;
const flag = new Int32Array(data.stopFlag);
const stopController = new AbortController();
let settings: JsonValue = data.settings;
let pending: { value: JsonValue } | undefined;
const pendingListeners = new Set<() => void>();

// Atomics.waitAsync is in Node 20 but not in the ES2023 lib typings.
type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
const post = (message: FromWorker) => port.postMessage(message);
const stopRequested = () => Atomics.load(flag, 0) === 1;

/** Takes every settings value queued on the port (latest wins), without yielding. */
function drainSettings(): void {
  for (let m = receiveMessageOnPort(data.settingsPort); m !== undefined; m = receiveMessageOnPort(data.settingsPort)) {
    pending = { value: m.message as JsonValue };
  }
}

port.on("message", (message: ToWorker) => {
  if (message.type === "stop" && !stopController.signal.aborted) stopController.abort(new TaskStopError());
  if (message.type === "pending") {
    drainSettings();
    for (const listener of [...pendingListeners]) listener();
  }
});

const ctx: TaskContext = {
  name: data.name,
  args: data.args,
  get stopRequested() {
    return stopRequested();
  },
  signal: stopController.signal,
  get settings() {
    return settings;
  },
  get hasPendingSettings() {
    drainSettings();
    return pending !== undefined;
  },
  get pendingSettings() {
    drainSettings();
    return pending?.value;
  },
  changeSettings() {
    // Methods are never called on worker tasks (CallMethod refuses them), and run() applies settings itself.
    throw new Error("changeSettings is not available in a worker thread");
  },
  async sleep(ms: number) {
    if (stopRequested()) throw new TaskStopError();
    const wait = waitAsync(flag, 0, 0, Math.max(0, ms));
    if (wait.async) await wait.value;
    if (stopRequested()) throw new TaskStopError();
  },
  checkStop() {
    if (stopRequested()) throw new TaskStopError();
  },
  updateSettings() {
    drainSettings();
    if (pending === undefined) return false;
    settings = pending.value;
    pending = undefined;
    post({ type: "applied", settings });
    return true;
  },
  onPendingSettings(listener) {
    pendingListeners.add(listener);
    return () => pendingListeners.delete(listener);
  },
  setStatus(status) {
    post({ type: "status", status });
  },
  publish(signal, payload) {
    post({ type: "publish", signal, payload: payload ?? null });
  },
  missedLoop(missed) {
    post({ type: "missed_loop", missed });
  },
};

try {
  const mod = (await import(pathToFileURL(data.modulePath).href)) as Record<string, TaskClass>;
  const TaskType = mod[data.exportName];
  if (!TaskType) throw new Error(`${data.modulePath} has no export ${data.exportName}`);
  const instance = new TaskType(data.args);
  await instance.run(ctx);
  post({ type: "done" });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ type: "failed", name: e.name, message: e.message, stack: e.stack ?? "" });
}
port.close();
data.settingsPort.close();
