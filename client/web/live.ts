// What the page knows, kept current by the daemon's streams: the programs (one listing, then
// WatchEvents; a changed program is re-read alone, never the whole list), their CPU and memory
// (one WatchStats stream for all of them), and the tasks (one listing, then WatchSignals). A
// stream that ends or fails is opened again after a pause, resuming after the last event seen.
// Every history kept here has a fixed bound.
import { ConnectError } from "@connectrpc/connect";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ProcessState, type Event, type ProcessInfo } from "../../gen/ts/corral/v1/process_manager_pb.js";
import type { StatsSample } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import type { TaskInfo, TaskSignal } from "../../gen/ts/corral/v1/task_runner_pb.js";
import type { Api } from "./api.js";

/** Samples kept per program: 5 minutes at WatchStats's 1 s interval. */
export const STATS_HISTORY = 300;
/** Signals kept per task. */
export const SIGNAL_HISTORY = 50;
/** Event-to-page latencies kept for the measurement hook (window.corralDashboard). */
const LATENCY_HISTORY = 200;
const RECONNECT_MS = 1_000;
/** How often a task with a stream of signals is re-read, at most. */
const TASK_REFRESH_MS = 200;
/** How long a change of the running set waits before the stats stream is opened again (a crash loop changes it often). */
const RESUBSCRIBE_MS = 300;

export interface StatPoint {
  timeMs: number;
  cpuPercent?: number;
  rssBytes: number;
}

type Listener = (program?: string) => void;

/** A stream's life: run it until it ends or fails, wait, run it again, until stopped. */
function keepStreaming(run: (signal: AbortSignal) => Promise<void>, onError: (message: string | undefined) => void): () => void {
  const controller = new AbortController();
  void (async () => {
    while (!controller.signal.aborted) {
      try {
        await run(controller.signal);
        onError(undefined);
      } catch (error) {
        if (controller.signal.aborted) return;
        onError(ConnectError.from(error).rawMessage);
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  })();
  return () => controller.abort();
}

/** The programs of one host, live. */
export class ProgramsModel {
  readonly programs = new Map<string, ProcessInfo>();
  /** Config order, as ListProcesses gives it. */
  order: string[] = [];
  error: string | undefined;
  loaded = false;
  /** Milliseconds from an event's journal time to the page applying it (for the bench and test). */
  readonly latencies: number[] = [];
  private lastSeq = 0n;
  private readonly listeners = new Set<Listener>();
  private readonly refreshing = new Map<string, boolean>();
  private stop: (() => void) | undefined;

  constructor(private readonly api: Api) {}

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(program?: string): void {
    for (const listener of this.listeners) listener(program);
  }

  start(): void {
    this.stop = keepStreaming(
      (signal) => this.follow(signal),
      (error) => {
        this.error = error;
        this.changed();
      },
    );
  }

  close(): void {
    this.stop?.();
  }

  private async reload(signal: AbortSignal): Promise<void> {
    const { processes } = await this.api.processManager.listProcesses({}, { signal });
    this.programs.clear();
    for (const process of processes) this.programs.set(process.name, process);
    this.order = processes.map((process) => process.name);
    this.loaded = true;
    this.error = undefined;
    this.changed();
  }

  private async follow(signal: AbortSignal): Promise<void> {
    // The seq first, then the list: an event between the two is applied again (harmless), none is missed.
    if (this.lastSeq === 0n) this.lastSeq = (await this.api.processManager.getServerInfo({}, { signal })).lastEventSeq;
    await this.reload(signal);
    for await (const item of this.api.processManager.watchEvents({ afterSeq: this.lastSeq }, { signal })) {
      if (item.kind.case === "gap") {
        // Events were lost (journal wrapped, or we read too slowly): the list is the truth again.
        this.lastSeq = item.kind.value.firstAvailableSeq > 0n ? item.kind.value.firstAvailableSeq - 1n : this.lastSeq;
        await this.reload(signal);
        continue;
      }
      if (item.kind.case !== "event") continue;
      const event = item.kind.value;
      this.lastSeq = event.seq;
      this.apply(event, signal);
    }
  }

  private apply(event: Event, signal: AbortSignal): void {
    if (event.detail.case === "configApplied") {
      void this.reload(signal).catch(() => {});
      return;
    }
    const program = this.programs.get(event.program);
    if (!program) return;
    // The state is in the event itself: shown at once; the rest (run, restarts, uptime) follows from GetProcess.
    if (event.detail.case === "stateChanged") {
      program.state = event.detail.value.to;
      program.stateReason = event.detail.value.reason;
      program.stateSince = event.time;
      this.changed(program.name);
      if (event.time) this.recordLatency(Date.now() - timestampMs(event.time));
    }
    this.refresh(program.name, signal);
  }

  private recordLatency(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > LATENCY_HISTORY) this.latencies.shift();
  }

  /** Re-reads one program; calls that arrive while one is in flight make one more read after it. */
  private refresh(name: string, signal: AbortSignal): void {
    if (this.refreshing.has(name)) {
      this.refreshing.set(name, true);
      return;
    }
    this.refreshing.set(name, false);
    void (async () => {
      try {
        do {
          this.refreshing.set(name, false);
          const { process } = await this.api.processManager.getProcess({ name }, { signal });
          if (process) this.programs.set(name, process);
          this.changed(name);
        } while (this.refreshing.get(name) === true);
      } catch {
        // Deleted meanwhile, or the stream is reconnecting (which reloads everything).
      } finally {
        this.refreshing.delete(name);
      }
    })();
  }
}

/**
 * CPU and memory of the running programs, one WatchStats stream for all of them, the last
 * STATS_HISTORY samples each. WatchStats refuses a target that is not running when it opens, so
 * the stream is opened again (at most every RESUBSCRIBE_MS) when the set of running programs changes.
 */
export class StatsModel {
  readonly history = new Map<string, StatPoint[]>();
  private readonly listeners = new Set<Listener>();
  private names = "";
  private current: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly api: Api) {}

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The programs to sample now; a change re-opens the stream shortly after. */
  watch(programs: string[]): void {
    const names = programs.join("\n");
    if (names === this.names || this.closed) return;
    this.names = names;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(programs), RESUBSCRIBE_MS);
  }

  private open(programs: string[]): void {
    this.current?.abort();
    if (programs.length === 0) return;
    const controller = new AbortController();
    this.current = controller;
    const request = { targets: programs.map((program) => ({ target: { case: "program" as const, value: program } })), includeChildren: true };
    void (async () => {
      try {
        for await (const tick of this.api.processMonitor.watchStats(request, { signal: controller.signal })) {
          for (const sample of tick.samples) this.add(sample);
          for (const listener of this.listeners) listener();
        }
      } catch {
        // A program stopped as the stream opened, or the connection dropped: try again unless replaced.
      }
      if (!controller.signal.aborted && this.current === controller) this.timer = setTimeout(() => this.open(programs), RECONNECT_MS);
    })();
  }

  private add(sample: StatsSample): void {
    const name = sample.target?.target.case === "program" ? sample.target.target.value : sample.program;
    if (!name) return;
    let points = this.history.get(name);
    if (!points) this.history.set(name, (points = []));
    const total = sample.total;
    if (sample.error || !total) return;
    points.push({ timeMs: sample.time ? timestampMs(sample.time) : Date.now(), cpuPercent: total.cpuPercent, rssBytes: Number(total.rssBytes) });
    if (points.length > STATS_HISTORY) points.shift();
  }

  latest(name: string): StatPoint | undefined {
    const points = this.history.get(name);
    return points?.[points.length - 1];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.current?.abort();
  }
}

export interface TaskView {
  info: TaskInfo;
  lockExpiresMs?: number;
  signals: TaskSignal[];
}

/** The tasks, live: listed once, then each re-read when one of its signals arrives. */
export class TasksModel {
  readonly tasks = new Map<string, TaskView>();
  error: string | undefined;
  private readonly pending = new Set<string>();
  private readonly listeners = new Set<Listener>();
  private stop: (() => void) | undefined;

  constructor(private readonly api: Api) {}

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(task?: string): void {
    for (const listener of this.listeners) listener(task);
  }

  start(): void {
    this.stop?.();
    this.stop = keepStreaming(
      async (signal) => {
        const stream = this.api.taskRunner.watchSignals({ liveOnly: true }, { signal })[Symbol.asyncIterator]();
        // The stream is asked for before the list is read, so no signal between the two is lost.
        const first = stream.next();
        const { tasks } = await this.api.taskRunner.listTasks({}, { signal });
        const kept = new Map(this.tasks);
        this.tasks.clear();
        for (const info of tasks) this.tasks.set(info.name, { info, signals: kept.get(info.name)?.signals ?? [] });
        await Promise.all(tasks.map((info) => this.refresh(info.name, signal)));
        this.error = undefined;
        this.changed();
        for (let next = await first; !next.done; next = await stream.next()) {
          const item = next.value;
          if (item.kind.case !== "signal") continue;
          const taskSignal = item.kind.value;
          let view = this.tasks.get(taskSignal.task);
          if (!view) {
            const { task } = await this.api.taskRunner.getTask({ name: taskSignal.task }, { signal });
            if (!task) continue;
            view = { info: task, signals: [] };
            this.tasks.set(task.name, view);
          }
          view.signals.push(taskSignal);
          if (view.signals.length > SIGNAL_HISTORY) view.signals.shift();
          this.refreshSoon(taskSignal.task, signal);
        }
      },
      (error) => {
        this.error = error;
        this.changed();
      },
    );
  }

  /**
   * Re-reads a task at most every TASK_REFRESH_MS, whatever its signal rate: a task that ticks 50
   * times a second costs two calls per interval, and the signal stream is read as fast as it comes.
   */
  private refreshSoon(name: string, signal: AbortSignal): void {
    if (this.pending.has(name)) return;
    this.pending.add(name);
    setTimeout(() => {
      void this.refresh(name, signal).finally(() => {
        this.pending.delete(name);
        this.changed(name);
      });
    }, TASK_REFRESH_MS);
  }

  private async refresh(name: string, signal: AbortSignal): Promise<void> {
    const view = this.tasks.get(name);
    if (!view) return;
    try {
      const [{ task }, lock] = await Promise.all([this.api.taskRunner.getTask({ name }, { signal }), this.api.taskRunner.isLocked({ name }, { signal })]);
      if (task) view.info = task;
      view.lockExpiresMs = lock.locked && lock.expiresAt ? timestampMs(lock.expiresAt) : undefined;
    } catch {
      // removed meanwhile: the next signal or reconnect says so
    }
  }

  close(): void {
    this.stop?.();
  }
}

export const STATE_NAMES: Record<number, string> = {
  [ProcessState.UNSPECIFIED]: "UNSPECIFIED",
  [ProcessState.STOPPED]: "STOPPED",
  [ProcessState.STARTING]: "STARTING",
  [ProcessState.RUNNING]: "RUNNING",
  [ProcessState.BACKOFF]: "BACKOFF",
  [ProcessState.STOPPING]: "STOPPING",
  [ProcessState.EXITED]: "EXITED",
  [ProcessState.FATAL]: "FATAL",
  [ProcessState.UNKNOWN]: "UNKNOWN",
};
