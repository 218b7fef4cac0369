// A monitored run with the rules of Launchpad's ProcessMonitorProtocol: an inactivity timeout
// reset only by progress, an overall timeout, the kill signal to the whole process group then
// SIGKILL after a grace period, and one result sent only after the process exited, its stdio
// closed and every earlier notification was delivered. The first failure wins.
import { spawn, type ChildProcess } from "node:child_process";
import { onAbort } from "../os/abort.js";
import { stopProcessGroup, type ProcessGroupRef } from "../os/group-stop.js";
import { readStat } from "../os/proc.js";
import { checkSpawnable } from "../os/spawnable.js";

export interface MonitoredRunSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Absolute working directory. */
  cwd: string;
  /** 0: none. */
  inactivityTimeoutMs: number;
  /** 0: none. */
  totalTimeoutMs: number;
  killSignal: NodeJS.Signals;
  killGraceMs: number;
  progressPattern?: RegExp;
}

export type MonitoredOutcome = "completed" | "failed" | "timed_out" | "spawn_failed" | "killed_by_client" | "failed_by_client";
export type TimeoutKind = "inactivity" | "total";

export interface MonitoredFailure {
  outcome: MonitoredOutcome;
  message: string;
}

export interface MonitoredResult {
  outcome: MonitoredOutcome;
  exitCode?: number;
  signal?: string;
  timeout?: TimeoutKind;
  elapsedMs: number;
  timedOutAfterMs?: number;
  spawnPath?: string;
  spawnErrno?: string;
  message: string;
  sigkilled: boolean;
  secondary: MonitoredFailure[];
}

export type MonitoredEvent =
  | { kind: "started"; runId: number; pid: number }
  | { kind: "output"; stream: "stdout" | "stderr"; data: Buffer }
  | { kind: "progress"; message: string; source: "pattern" | "report"; time: Date }
  | { kind: "result"; result: MonitoredResult };

/** Output is paused while this many notifications wait for the client (back-pressure). */
const PAUSE_AT = 256;
const RESUME_AT = 64;
/** A line longer than this is matched and dropped from the buffer, so memory stays bounded. */
const MAX_LINE = 64 * 1024;

interface FirstFailure extends MonitoredFailure {
  timeout?: TimeoutKind;
  timedOutAfterMs?: number;
}

export class MonitoredRun {
  pid = 0;
  private child?: ChildProcess;
  private readonly queue: MonitoredEvent[] = [];
  private wake?: () => void;
  private startMono = performance.now();
  private failure?: FirstFailure;
  private readonly secondary: MonitoredFailure[] = [];
  private inactivityTimer?: NodeJS.Timeout;
  private totalTimer?: NodeJS.Timeout;
  private group?: ProcessGroupRef;
  private killDone?: Promise<void>;
  private sigkilled = false;
  private paused = false;
  private readonly partial = { stdout: "", stderr: "" };
  private markFinished!: (result: MonitoredResult) => void;
  /** Settles with the result once the run is over (also when no client reads it). */
  readonly finished = new Promise<MonitoredResult>((resolve) => (this.markFinished = resolve));
  done = false;

  constructor(
    readonly runId: number,
    private readonly spec: MonitoredRunSpec,
  ) {}

  /** Spawns the command (own session and process group) and arms the timeouts. */
  start(): void {
    const problem = checkSpawnable(this.spec.cwd, this.spec.command, this.spec.env);
    if (problem) {
      this.finish({ outcome: "spawn_failed", spawnPath: problem.path, spawnErrno: problem.errno, message: problem.message });
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, {
        cwd: this.spec.cwd,
        env: { ...process.env, ...this.spec.env, CORRAL_MONITORED_RUN_ID: String(this.runId) },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      this.finish({ outcome: "spawn_failed", spawnPath: this.spec.command, spawnErrno: e.code ?? "EUNKNOWN", message: e.message });
      return;
    }
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (this.pid === 0 && !this.done) {
        this.finish({
          outcome: "spawn_failed",
          spawnPath: this.spec.command,
          spawnErrno: error.code ?? "EUNKNOWN",
          message: `spawn ${this.spec.command} failed: ${error.message}`,
        });
      }
    });
    if (child.pid === undefined) return; // the "error" event follows
    this.child = child;
    this.pid = child.pid;
    const leaderExit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.group = {
      pgid: child.pid,
      leaderStartTicks: readStat(child.pid)?.startTicks ?? 0,
      leaderExited: () => child.exitCode !== null || child.signalCode !== null,
      leaderExit,
    };
    this.startMono = performance.now();
    this.push({ kind: "started", runId: this.runId, pid: child.pid });
    for (const stream of ["stdout", "stderr"] as const) {
      child[stream]?.on("data", (data: Buffer) => this.onOutput(stream, data));
    }
    // "close" comes after the exit and after both pipes closed (all output was read).
    child.once("close", (code, signal) => void this.onClose(code, signal));
    const { inactivityTimeoutMs, totalTimeoutMs } = this.spec;
    if (inactivityTimeoutMs > 0) {
      this.inactivityTimer = setTimeout(
        () =>
          this.fail({ outcome: "timed_out", timeout: "inactivity", timedOutAfterMs: this.elapsedMs(), message: `no progress for ${inactivityTimeoutMs} ms` }),
        inactivityTimeoutMs,
      );
    }
    if (totalTimeoutMs > 0) {
      this.totalTimer = setTimeout(
        () => this.fail({ outcome: "timed_out", timeout: "total", timedOutAfterMs: this.elapsedMs(), message: `still running after ${totalTimeoutMs} ms` }),
        totalTimeoutMs,
      );
    }
  }

  /** Progress from a client (ReportProgress): resets the inactivity timeout. */
  reportProgress(message: string): void {
    if (this.done) return;
    this.progress(message, "report");
  }

  /** A client failed the run (Launchpad's unexpectedError): killed two-stage; the reason is the outcome unless a failure came first. */
  failByClient(reason: string): void {
    this.fail({ outcome: "failed_by_client", message: reason });
  }

  /** The client went away: kill the run (two-stage); the result is then not delivered. */
  cancel(): void {
    if (!this.done) this.fail({ outcome: "killed_by_client", message: "the client cancelled the run" });
  }

  /** Notifications in order, the result last; cancelling the iteration (or signal) kills the run. */
  async *events(signal?: AbortSignal): AsyncGenerator<MonitoredEvent> {
    const removeOnAbort = onAbort(signal, () => {
      this.cancel();
      this.wake?.();
    });
    try {
      while (true) {
        if (signal?.aborted) return;
        const event = this.queue.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        if (this.paused && this.queue.length <= RESUME_AT) this.setPaused(false);
        yield event;
        if (event.kind === "result") return;
      }
    } finally {
      removeOnAbort();
      this.cancel();
    }
  }

  private elapsedMs(): number {
    return Math.round(performance.now() - this.startMono);
  }

  private push(event: MonitoredEvent): void {
    this.queue.push(event);
    if (!this.paused && this.queue.length >= PAUSE_AT) this.setPaused(true);
    this.wake?.();
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    for (const stream of [this.child?.stdout, this.child?.stderr]) {
      if (paused) stream?.pause();
      else stream?.resume();
    }
  }

  private onOutput(stream: "stdout" | "stderr", data: Buffer): void {
    this.push({ kind: "output", stream, data });
    const pattern = this.spec.progressPattern;
    if (!pattern) return;
    const text = this.partial[stream] + data.toString("utf8");
    const lines = text.split("\n");
    let rest = lines.pop() ?? "";
    for (const line of lines) this.matchLine(line);
    if (rest.length > MAX_LINE) {
      this.matchLine(rest);
      rest = "";
    }
    this.partial[stream] = rest;
  }

  private matchLine(line: string): void {
    const clean = line.endsWith("\r") ? line.slice(0, -1) : line;
    const pattern = this.spec.progressPattern!;
    pattern.lastIndex = 0;
    if (pattern.test(clean)) this.progress(clean, "pattern");
  }

  private progress(message: string, source: "pattern" | "report"): void {
    if (this.failure) return; // being killed: progress no longer counts
    this.inactivityTimer?.refresh();
    this.push({ kind: "progress", message, source, time: new Date() });
  }

  private fail(failure: FirstFailure): void {
    if (this.done) return;
    if (this.failure) {
      this.secondary.push({ outcome: failure.outcome, message: failure.message });
      return;
    }
    this.failure = failure;
    clearTimeout(this.inactivityTimer);
    this.kill();
  }

  /** The kill signal to the whole group, then SIGKILL after the grace if a live member is left (os/group-stop.ts). */
  private kill(): void {
    if (this.killDone || !this.group) return;
    this.killDone = stopProcessGroup(this.group, { signal: this.spec.killSignal, timeoutMs: this.spec.killGraceMs }).then(({ killed }) => {
      this.sigkilled = killed;
    });
  }

  private async onClose(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const elapsedMs = this.elapsedMs();
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream] !== "") this.matchLine(this.partial[stream]);
      this.partial[stream] = "";
    }
    clearTimeout(this.inactivityTimer);
    clearTimeout(this.totalTimer);
    // Live members of the group that outlived the leader still get the grace, then SIGKILL; zombies do not count.
    if (this.killDone) await this.killDone;
    const exit = { exitCode: code ?? undefined, signal: signal ?? undefined, elapsedMs };
    const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
    if (this.failure) {
      const { outcome, message, timeout, timedOutAfterMs } = this.failure;
      this.finish({ outcome, message: `${message}; ended with ${how}`, timeout, timedOutAfterMs, ...exit });
    } else if (code === 0) {
      this.finish({ outcome: "completed", message: "exited with code 0", ...exit });
    } else {
      this.finish({ outcome: "failed", message: `ended with ${how}`, ...exit });
    }
  }

  private finish(result: Omit<MonitoredResult, "sigkilled" | "secondary" | "elapsedMs"> & { elapsedMs?: number }): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.inactivityTimer);
    clearTimeout(this.totalTimer);
    const full: MonitoredResult = { elapsedMs: 0, ...result, sigkilled: this.sigkilled, secondary: [...this.secondary] };
    this.push({ kind: "result", result: full });
    this.markFinished(full);
  }
}
