// One program's life: its runs, its state machine (supervisord's states, changed only through
// transition()), restart policy with backoff, and the two-stage stop of its process group.
import { spawn, type ChildProcess } from "node:child_process";
import { ResourceExhaustedError, TimeoutError, WrongStateError } from "../errors.js";
import { errnoOf, resourceError } from "../resource-errors.js";
import { crashPoint } from "../failpoints.js";
import type { EventDetail, EventJournal } from "../store/journal.js";
import type { LogBudget } from "./log-budget.js";
import { LogFile } from "./logs.js";
import { ProbeRunner } from "./readiness.js";
import { armReadinessTimeout } from "./readiness-timeout.js";
import { sleep, withTimeout } from "../os/abort.js";
import { KILL_WAIT_MS, stopProcessGroup, type ProcessGroupRef } from "../os/group-stop.js";
import { RunCgroup, type CgroupSupport } from "../os/cgroup.js";
import { groupExists, isSameProcess, readStat } from "../os/proc.js";
import { checkSpawnable, type SpawnProblem } from "../os/spawnable.js";
import type { ProcessSnapshot, ProcessState, ProgramConfig, RunSnapshot } from "./types.js";

/** Allowed transitions; anything else is a bug and throws. */
const TRANSITIONS: Record<ProcessState, readonly ProcessState[]> = {
  STOPPED: ["STARTING"],
  STARTING: ["RUNNING", "BACKOFF", "STOPPING", "FATAL", "EXITED"],
  RUNNING: ["EXITED", "STOPPING"],
  BACKOFF: ["STARTING", "FATAL", "STOPPED"],
  STOPPING: ["STOPPED"],
  EXITED: ["STARTING", "STOPPED", "FATAL"],
  FATAL: ["STARTING", "STOPPED"],
  UNKNOWN: ["STARTING", "STOPPED", "EXITED", "RUNNING"],
};

export interface Run {
  runId: number;
  pid: number;
  pidStartTicks: number;
  startedAt: Date;
  startedMono: number;
  child?: ChildProcess;
  exitedAt?: Date;
  exitCode?: number;
  exitSignal?: string;
  spawnError?: string;
  exited: Promise<void>;
  /** Why the daemon killed a run that was up (a failed liveness probe); said in its exit reason. */
  killedBecause?: string;
  /** Log offsets where this run's output begins. */
  logStart?: { stdout: number; stderr: number };
  /** Taken over from a previous daemon (see adopt.ts): no child handle, exit found by polling. */
  adopted?: boolean;
  /** Set when the exit status cannot be known (the process was not this daemon's child): why. */
  exitStatusUnknown?: string;
  /** The spawn failed for want of disk space or file descriptors (the start's caller is told). */
  resourceError?: ResourceExhaustedError;
  /** The run's own cgroup, where the host offers them (os/cgroup.ts). */
  cgroup?: RunCgroup;
}

/** A run a previous daemon left, as the store kept it (see adopt.ts). */
export interface RestoredRun {
  runId: number;
  pid: number;
  pidStartTicks: number;
  startedAt: Date;
  logStart: { stdout: number; stderr: number };
}

/** How a restored run had ended (see restoreFinished). */
export interface EndedRun {
  exitedAt: Date;
  exitCode?: number;
  exitSignal?: string;
  spawnError?: string;
  exitStatusUnknown?: string;
}

export interface ProgramDeps {
  journal: EventJournal;
  nextRunId: () => number;
  logDir: string;
  /** This daemon's host name: a program whose config names another host is remote. */
  hostName: string;
  /** Called after every state change (e.g. to wake waiters kept elsewhere). */
  onChange?: (program: Program) => void;
  /** The run-id reservation file, named in errors when reserving fails. */
  runIdPath?: string;
  /** The total cap on all programs' logs (log-budget.ts); told when this program's logs grow. */
  logBudget?: LogBudget;
  /** Added to every run's environment: which daemon home the run belongs to (spawn-recovery.ts). */
  markerEnv?: Record<string, string>;
  /** What the host offers for containment: each run gets its own cgroup unless mode is "none". */
  cgroups?: CgroupSupport;
  /** Records each spawn at once, before and after the fork (store/spawn-log.ts). */
  spawnLog?: {
    intent(program: string, runId: number, logStart: { stdout: number; stderr: number }): void;
    spawned(program: string, runId: number, pid: number, pidStartTicks: number): void;
  };
}

type Waiter = { test: (p: Program) => boolean; resolve: () => void };

export class Program {
  state: ProcessState = "STOPPED";
  stateReason = "not started";
  stateSince = new Date();
  run?: Run;
  /** Automatic restarts since the last start by a user. */
  restarts = 0;
  /** Failed attempts in the current start (STARTING -> BACKOFF). */
  startAttempts = 0;
  /** Restarts after RUNNING exits since the last stable run (drives restart backoff). */
  private consecutiveRestarts = 0;
  private restartTimes: number[] = [];
  private retryTimer?: NodeJS.Timeout;
  private startsecsTimer?: NodeJS.Timeout;
  nextRetryAt?: Date;
  private stopping?: Promise<number[]>;
  private readonly waiters = new Set<Waiter>();
  readonly stdout: LogFile;
  readonly stderr: LogFile;
  ready = false;
  adhoc = false;
  /**
   * Set while the program is being removed (DeleteProgram, or dropped by an applied config):
   * it never starts again, so a start racing the removal cannot leave a run nobody tracks.
   */
  removing = false;
  /** The user's last word (start or stop), kept across daemon restarts; undefined: never said. */
  desired?: "running" | "stopped";
  private readiness?: ProbeRunner;
  private liveness?: ProbeRunner;
  private readinessVerdict?: boolean;

  constructor(
    public config: ProgramConfig,
    private readonly deps: ProgramDeps,
  ) {
    this.stdout = new LogFile(deps.logDir, config.name, "stdout", config.log);
    this.stderr = new LogFile(deps.logDir, config.name, "stderr", config.log);
    this.stdout.onGrow = deps.logBudget?.noteGrowth;
    this.stderr.onGrow = deps.logBudget?.noteGrowth;
    for (const file of [this.stdout, this.stderr]) file.onProblem = (message) => this.deps.journal.append(this.name, this.run?.runId ?? 0, { kind: "server", message });
  }

  /** While a run writes: watch its logs when rotation or the total cap needs to see them grow. */
  private watchLogs(): void {
    this.stdout.keepWatching = true;
    this.stderr.keepWatching = true;
    if (this.config.log.maxBytes > 0 || this.deps.logBudget?.enabled) {
      this.stdout.startWatching();
      this.stderr.startWatching();
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** The other host this program runs on, or undefined when it runs here. */
  get remoteHost(): string | undefined {
    const host = this.config.host;
    return host !== undefined && host !== "" && host !== this.deps.hostName ? host : undefined;
  }

  /** Refuses an operation that would act on a process of another host. */
  private refuseRemote(what: string): void {
    const host = this.remoteHost;
    if (host !== undefined) throw new WrongStateError(`${this.name} runs on host ${host}, not on this host (${this.deps.hostName}): ${what} it on ${host}`);
  }

  snapshot(): ProcessSnapshot {
    const run = this.run;
    let runSnapshot: RunSnapshot | undefined;
    if (run) {
      runSnapshot = {
        runId: run.runId,
        pid: run.pid,
        pidStartTicks: run.pidStartTicks,
        startedAt: run.startedAt,
        exitedAt: run.exitedAt,
        exitCode: run.exitCode,
        exitSignal: run.exitSignal,
        spawnError: run.spawnError,
        cgroupPath: run.cgroup?.path,
      };
    }
    const alive = run && !run.exitedAt && !run.spawnError;
    return {
      name: this.name,
      state: this.state,
      // Nothing of a remote program runs here; say where it does.
      stateReason: this.remoteHost !== undefined && !this.isActive() ? `remote: runs on host ${this.remoteHost}` : this.stateReason,
      stateSince: this.stateSince,
      run: runSnapshot,
      restarts: this.restarts,
      startAttempts: this.startAttempts,
      config: this.config,
      ready: this.ready,
      adhoc: this.adhoc,
      host: this.config.host || this.deps.hostName,
      remote: this.remoteHost !== undefined,
      nextRetryAt: this.nextRetryAt,
      uptimeMs: alive ? performance.now() - run.startedMono : undefined,
      readinessProbe: this.readiness?.status,
      livenessProbe: this.liveness?.status,
    };
  }

  private emit(detail: EventDetail): void {
    this.deps.journal.append(this.name, this.run?.runId ?? 0, detail);
  }

  /** The one place a state changes: checks the transition table and publishes the event. */
  private transition(to: ProcessState, reason: string): void {
    const from = this.state;
    if (!TRANSITIONS[from].includes(to)) {
      throw new Error(`bug: transition ${from} -> ${to} is not allowed (${this.name}: ${reason})`);
    }
    this.state = to;
    this.stateReason = reason;
    this.stateSince = new Date();
    // With a readiness probe, `ready` is the probe's verdict while RUNNING; without, RUNNING is ready.
    this.ready = to === "RUNNING" && (this.config.readiness === undefined || this.ready);
    if (to !== "STARTING" && to !== "RUNNING") this.stopProbes();
    this.emit({ kind: "stateChanged", from, to, reason });
    this.wakeWaiters();
    this.deps.onChange?.(this);
  }

  /** Resolves when test(program) holds (checked now and after each transition). */
  waitFor(test: (p: Program) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    if (test(this)) return Promise.resolve();
    const waiter: Waiter = { test, resolve: () => undefined };
    const holds = new Promise<void>((resolve) => (waiter.resolve = resolve));
    this.waiters.add(waiter);
    const onTimeout = () => {
      const probe = this.readiness?.status;
      const lastProbe = probe ? `; last readiness probe ${probe.ok ? "passed" : "failed"}: ${probe.message}` : "";
      return new TimeoutError(`${this.name}: not ${what} after ${timeoutMs} ms (state ${this.state}: ${this.stateReason}${lastProbe})`);
    };
    return withTimeout(holds, { timeoutMs, signal, onTimeout }).finally(() => this.waiters.delete(waiter));
  }

  isActive(): boolean {
    return this.state === "STARTING" || this.state === "RUNNING" || this.state === "STOPPING" || this.state === "BACKOFF" || (this.state === "EXITED" && this.retryTimer !== undefined);
  }

  /** A user's start: refused while the program is already up or on its way. */
  start(): void {
    this.refuseRemote("start");
    if (this.removing) throw new WrongStateError(`${this.name} is being removed; it cannot be started`);
    if (this.state === "STARTING" || this.state === "RUNNING" || this.state === "BACKOFF") {
      throw new WrongStateError(`${this.name} is already ${this.state} (pid ${this.run?.pid ?? "-"}); stop it first or use restart`);
    }
    if (this.state === "STOPPING") {
      throw new WrongStateError(`${this.name} is STOPPING; wait for it to stop, or use restart`);
    }
    this.cancelRetry();
    this.desired = "running";
    this.startAttempts = 0;
    this.restarts = 0;
    this.consecutiveRestarts = 0;
    this.restartTimes = [];
    this.spawnRun("start requested");
  }

  /**
   * A user's start that also reports a spawn that failed for want of disk space or file
   * descriptors, as a ResourceExhaustedError naming the path, what ran out, and what happens
   * next (the restart policy's retry). Spawn's own EMFILE comes on the next tick: waited for.
   */
  async startChecked(): Promise<void> {
    this.start();
    const run = this.run;
    if (run && !run.resourceError && run.pid <= 0 && !run.exitedAt) await new Promise<void>((resolve) => setImmediate(resolve));
    const failed = run?.resourceError;
    if (failed && this.run === run) {
      throw new ResourceExhaustedError(`start of ${this.name} failed: ${failed.message}; the program is ${this.state} (${this.stateReason})`, failed.errno, failed.path);
    }
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextRetryAt = undefined;
  }

  private spawnRun(reason: string): void {
    this.transition("STARTING", reason);
    // Reserving run ids writes a file now and then: a full disk fails this start, not the daemon.
    let runId = 0;
    let reserveError: unknown;
    try {
      runId = this.deps.nextRunId();
    } catch (error) {
      reserveError = error;
    }
    const startedAt = new Date();
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const run: Run = { runId, pid: 0, pidStartTicks: 0, startedAt, startedMono: performance.now(), exited };
    this.run = run;
    const startOffsets = { stdout: this.stdout.endOffsetSync(), stderr: this.stderr.endOffsetSync() };
    run.logStart = startOffsets;

    const problem = reserveError !== undefined ? this.resourceProblem(reserveError, "reserving run ids in", this.deps.runIdPath ?? "the state directory") : checkSpawnable(this.config.cwd, this.config.command[0], this.config.env);
    if (problem) {
      this.spawnFailed(run, problem);
      markExited();
      return;
    }
    // Before the fork: a daemon killed from here on leaves a trace the next one follows.
    this.deps.spawnLog?.intent(this.name, runId, startOffsets);
    let outFd: number | undefined;
    let errFd: number | undefined;
    try {
      outFd = this.stdout.openForChild();
      errFd = this.stderr.openForChild();
    } catch (error) {
      if (outFd !== undefined) LogFile.closeFd(outFd);
      this.spawnFailed(run, this.resourceProblem(error, "opening the log file", outFd === undefined ? this.stdout.path : this.stderr.path));
      markExited();
      return;
    }
    const argv = this.containedArgv(run);
    let child: ChildProcess;
    try {
      child = spawn(argv.command, argv.args, {
        cwd: this.config.cwd,
        // The markers let a next daemon find a run whose pid it never learnt (spawn-recovery.ts).
        env: { ...process.env, ...this.config.env, ...this.deps.markerEnv, CORRAL_PROGRAM: this.name, CORRAL_RUN_ID: String(runId) },
        // Own session and process group, so stop reaches the whole tree.
        detached: true,
        stdio: [this.config.stdin ? "pipe" : "ignore", outFd, errFd],
      });
    } catch (error) {
      LogFile.closeFd(outFd);
      LogFile.closeFd(errFd);
      this.spawnFailed(run, this.resourceProblem(error, "spawning", this.config.command[0]));
      markExited();
      return;
    }
    // The child has its own copies; the daemon keeps none open.
    LogFile.closeFd(outFd);
    LogFile.closeFd(errFd);
    run.child = child;
    if (child.pid === undefined) {
      // Node reports EMFILE, ENFILE, EAGAIN... of spawn itself on the next tick (see startChecked).
      child.once("error", (error: NodeJS.ErrnoException) => {
        this.spawnFailed(run, this.resourceProblem(error, "spawning", this.config.command[0]));
        markExited();
      });
      return;
    }
    crashPoint("crash-after-fork");
    run.pid = child.pid;
    run.pidStartTicks = readStat(child.pid)?.startTicks ?? 0;
    this.deps.spawnLog?.spawned(this.name, runId, run.pid, run.pidStartTicks);
    child.stdin?.on("error", () => undefined); // EPIPE when the program closed its stdin
    child.on("error", () => undefined);
    child.once("exit", (code, signal) => {
      run.exitedAt = new Date();
      if (code !== null) run.exitCode = code;
      if (signal !== null) run.exitSignal = signal;
      child.stdin?.destroy();
      run.child = undefined;
      this.onExit(run);
      markExited();
    });
    this.watchLogs();
    this.emit({ kind: "processStarted", pid: run.pid, pidStartTicks: run.pidStartTicks });
    this.startReadiness(run, startOffsets);
    if (this.config.readiness) {
      // RUNNING comes from the readiness probe's first pass (see onReadiness); one that never
      // passes must not leave the program STARTING for ever: a failed start (readiness-timeout.ts).
      this.startsecsTimer = armReadinessTimeout(this.config.readiness, () => this.run === run && this.state === "STARTING" && !run.exitedAt, (why) => {
        this.startsecsTimer = undefined;
        run.killedBecause = `${why}${this.readiness?.status ? `; last check: ${this.readiness.status.message}` : ""}`;
        void this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
      });
    } else if (this.config.startsecsMs <= 0) {
      this.becomeRunning(run);
    } else {
      this.startsecsTimer = setTimeout(() => {
        this.startsecsTimer = undefined;
        if (this.run === run && this.state === "STARTING" && !run.exitedAt) this.becomeRunning(run);
      }, this.config.startsecsMs);
    }
  }

  private becomeRunning(run: Run, why = `pid ${run.pid} up for ${this.config.startsecsMs} ms`): void {
    this.startAttempts = 0;
    if (this.startsecsTimer) clearTimeout(this.startsecsTimer);
    this.startsecsTimer = undefined;
    this.transition("RUNNING", why);
    this.startLiveness(run);
  }

  private probeContext(startOffsets: { stdout: number; stderr: number }) {
    return { cwd: this.config.cwd, env: this.config.env, stdout: this.stdout, stderr: this.stderr, startOffsets };
  }

  private startReadiness(run: Run, startOffsets: { stdout: number; stderr: number }): void {
    this.readiness?.stop();
    this.readiness = undefined;
    this.readinessVerdict = undefined;
    const config = this.config.readiness;
    if (!config) return;
    const runner = new ProbeRunner(config, this.probeContext(startOffsets), (ok, status) => {
      if (this.run !== run || this.readiness !== runner) return;
      this.onReadiness(run, ok, status.message);
    });
    this.readiness = runner;
    runner.start();
  }

  /** A readiness verdict changed: an event, `ready`, and STARTING -> RUNNING on the first pass. */
  private onReadiness(run: Run, ok: boolean, message: string): void {
    if (run.exitedAt || !(this.state === "STARTING" || this.state === "RUNNING")) return;
    // A run starts not ready: a first verdict of "failing" is no change.
    if (ok === (this.readinessVerdict ?? false)) return;
    this.readinessVerdict = ok;
    this.emit({ kind: "probeChanged", probe: "readiness", ok, message });
    this.ready = ok && this.state === "RUNNING";
    if (ok && this.state === "STARTING") {
      this.ready = true;
      this.becomeRunning(run, `readiness probe passed: ${message}`);
      return;
    }
    this.wakeWaiters();
    this.deps.onChange?.(this);
  }

  private startLiveness(run: Run): void {
    this.liveness?.stop();
    this.liveness = undefined;
    const config = this.config.liveness;
    if (!config) return;
    const runner = new ProbeRunner(config, this.probeContext({ stdout: this.stdout.endOffsetSync(), stderr: this.stderr.endOffsetSync() }), (ok, status) => {
      if (ok || this.run !== run || this.liveness !== runner || this.state !== "RUNNING" || run.exitedAt) return;
      const why = `liveness probe failed ${status.consecutiveFailures} time(s): ${status.message}`;
      this.emit({ kind: "probeChanged", probe: "liveness", ok: false, message: why });
      runner.stop();
      run.killedBecause = why;
      // The exit then goes through onExit like a crash, so the restart policy decides.
      void this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
    });
    this.liveness = runner;
    runner.start();
  }

  private stopProbes(): void {
    this.readiness?.stop();
    this.liveness?.stop();
  }

  private wakeWaiters(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test(this)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** A spawn step's error as a SpawnProblem; disk full and out of fds said in words (resource-errors.ts). */
  private resourceProblem(error: unknown, what: string, path: string): SpawnProblem & { resource?: ResourceExhaustedError } {
    const resource = resourceError(error, `${this.name}: ${what}`, path);
    if (resource) return { path, errno: resource.errno, message: resource.message, resource };
    const errno = errnoOf(error) ?? "EUNKNOWN";
    return { path, errno, message: `${this.name}: ${what} ${path} failed: ${error instanceof Error ? error.message : String(error)}` };
  }

  private spawnFailed(run: Run, problem: SpawnProblem & { resource?: ResourceExhaustedError }): void {
    run.spawnError = problem.message;
    run.resourceError = problem.resource;
    run.exitedAt = new Date();
    this.emit({ kind: "spawnFailed", path: problem.path, errno: problem.errno, message: problem.message });
    if (this.state === "STARTING") this.startFailed(`spawn failed: ${problem.message}`);
  }

  /** STARTING ended too early: BACKOFF and retry, or FATAL when retries are used up. */
  private startFailed(why: string): void {
    this.startAttempts++;
    if (this.startAttempts > this.config.startretries) {
      this.transition("FATAL", `${why}; gave up after ${this.startAttempts} attempt(s) (startretries=${this.config.startretries})`);
      return;
    }
    const delay = this.backoffDelay(this.startAttempts - 1);
    this.transition("BACKOFF", `${why}; retry ${this.startAttempts}/${this.config.startretries} in ${delay} ms`);
    this.scheduleRetry(delay, `retry ${this.startAttempts}/${this.config.startretries}`);
  }

  private backoffDelay(step: number): number {
    const { initialMs, maxMs, multiplier } = this.config.backoff;
    return Math.round(Math.min(maxMs, initialMs * Math.pow(multiplier, step)));
  }

  private scheduleRetry(delayMs: number, reason: string): void {
    this.cancelRetry();
    this.nextRetryAt = new Date(Date.now() + delayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.nextRetryAt = undefined;
      // A retry never spawns a program that has moved to another host meanwhile.
      if ((this.state === "BACKOFF" || this.state === "EXITED") && this.remoteHost === undefined && !this.removing) this.spawnRun(reason);
    }, delayMs);
  }

  private describeExit(run: Run): string {
    if (run.exitStatusUnknown) return `exit status unknown: ${run.exitStatusUnknown}`;
    const how = run.exitSignal ? `killed by ${run.exitSignal}` : `exited with code ${run.exitCode}`;
    return run.killedBecause ? `${how} (${run.killedBecause})` : how;
  }

  private isExpectedExit(run: Run): boolean {
    return run.exitSignal === undefined && run.exitCode !== undefined && this.config.exitcodes.includes(run.exitCode);
  }

  private onExit(run: Run): void {
    if (this.startsecsTimer && this.run === run) {
      clearTimeout(this.startsecsTimer);
      this.startsecsTimer = undefined;
    }
    this.stdout.keepWatching = false;
    this.stderr.keepWatching = false;
    void this.stdout.rotateIfDue();
    void this.stderr.rotateIfDue();
    this.deps.logBudget?.noteGrowth();
    const uptimeMs = performance.now() - run.startedMono;
    const expected = this.isExpectedExit(run);
    this.emit({ kind: "processExited", pid: run.pid, exitCode: run.exitCode, signal: run.exitSignal, expected, uptimeMs });
    if (this.run !== run) return;
    const what = this.describeExit(run);
    if (this.state === "STOPPING") return; // the stop in progress finishes the transition
    if (this.state === "STARTING") {
      this.reapLeftovers(run);
      this.startFailed(run.killedBecause ? what : `${what} before startsecs (${this.config.startsecsMs} ms)`);
      return;
    }
    // UNKNOWN: a restored run found ended (see restoreEnded); the restart policy applies as usual.
    if (this.state !== "RUNNING" && this.state !== "UNKNOWN") return;
    this.reapLeftovers(run);
    if (uptimeMs >= this.config.backoff.resetAfterMs) this.consecutiveRestarts = 0;
    const policy = this.config.autorestart;
    const restart = policy === "always" || (policy === "on-failure" && !expected);
    if (!restart) {
      this.transition("EXITED", `${what}${expected ? "" : " (unexpected)"}`);
      return;
    }
    const now = performance.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.config.restartWindowMs);
    if (this.config.maxRestarts > 0 && this.restartTimes.length >= this.config.maxRestarts) {
      this.transition("EXITED", what);
      this.transition("FATAL", `${what}; restarted ${this.restartTimes.length} times within ${this.config.restartWindowMs} ms (max_restarts=${this.config.maxRestarts})`);
      return;
    }
    this.restartTimes.push(now);
    const delay = this.consecutiveRestarts === 0 ? 0 : this.backoffDelay(this.consecutiveRestarts - 1);
    this.consecutiveRestarts++;
    this.restarts++;
    this.transition("EXITED", `${what}; restarting (${policy}) in ${delay} ms`);
    this.scheduleRetry(delay, `autorestart ${this.restarts} after: ${what}`);
  }

  /** Members left in the group (or cgroup) of a leader that exited on its own are orphans of ours: stop them. */
  private reapLeftovers(run: Run): void {
    const left = (run.pid > 0 && groupExists(run.pid)) || (run.cgroup?.procs().length ?? 0) > 0;
    if (left) void this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
    else run.cgroup?.removeWhenEmpty();
  }

  /** The command, run inside a new cgroup of its own where the host offers them (a host that refuses: said, and run without). */
  private containedArgv(run: Run): { command: string; args: string[] } {
    const command = this.config.command[0];
    const args = this.config.command.slice(1);
    const support = this.deps.cgroups;
    if (!support || support.mode === "none" || run.runId <= 0) return { command, args };
    try {
      run.cgroup = RunCgroup.create(support, run.runId);
      return run.cgroup.wrap(command, args);
    } catch (error) {
      this.emit({ kind: "server", message: `${this.name}: run ${run.runId} gets no cgroup (${errnoOf(error) ?? String(error)}); it is stopped by process group and marker` });
      return { command, args };
    }
  }

  /**
   * The run's processes for os/group-stop.ts: its group (the leader is our child until its
   * 'exit'), its cgroup, and without one the marker its processes inherited (home + run id).
   */
  private groupOf(run: Run): ProcessGroupRef {
    const home = this.deps.markerEnv;
    const marker = home && Object.keys(home).length > 0 && run.runId > 0 ? { ...home, CORRAL_RUN_ID: String(run.runId) } : undefined;
    const leaderExited = () => run.exitedAt !== undefined || run.child === undefined;
    return { pgid: run.pid, leaderStartTicks: run.pidStartTicks, leaderExited, leaderExit: run.exited, cgroup: run.cgroup, marker };
  }

  /** The two-stage stop of the run's processes (os/group-stop.ts). Returns survivors, also journaled. */
  private async killGroup(run: Run, signal: NodeJS.Signals, timeoutMs: number): Promise<number[]> {
    if (run.pid <= 0) return [];
    const { survivors } = await stopProcessGroup(this.groupOf(run), { signal, timeoutMs });
    if (survivors.length > 0) {
      this.deps.journal.append(this.name, run.runId, { kind: "server", message: `${this.name}: ${survivors.length} process(es) of run ${run.runId} survived SIGKILL: ${survivors.join(", ")}` });
    } else if (run.exitedAt !== undefined || run.child === undefined) {
      run.cgroup?.removeWhenEmpty();
    }
    return survivors;
  }

  /**
   * A user's stop. Cancels a pending retry or restart; stops a live run two-stage. Returns the
   * pids that survived SIGKILL (expected empty). Stopping a program that is not up is a no-op.
   */
  async stop(): Promise<number[]> {
    if (this.stopping) return this.stopping;
    this.desired = "stopped";
    if (this.state === "BACKOFF" || (this.state === "EXITED" && this.retryTimer)) {
      this.cancelRetry();
      this.transition("STOPPED", "stopped by request (pending retry cancelled)");
      return [];
    }
    if (this.state !== "STARTING" && this.state !== "RUNNING") return [];
    const run = this.run;
    if (!run) return [];
    if (this.startsecsTimer) {
      clearTimeout(this.startsecsTimer);
      this.startsecsTimer = undefined;
    }
    this.transition("STOPPING", `sending ${this.config.stopSignal} to process group ${run.pid}`);
    this.stopping = (async () => {
      const survivors = await this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
      await Promise.race([run.exited, sleep(KILL_WAIT_MS, undefined, { unref: true })]);
      const how = this.describeExit(run);
      this.transition(
        "STOPPED",
        survivors.length > 0 ? `stopped (${how}); ${survivors.length} process(es) survived SIGKILL: ${survivors.join(", ")}` : `stopped (${how})`,
      );
      return survivors;
    })();
    try {
      return await this.stopping;
    } finally {
      this.stopping = undefined;
    }
  }

  /** Sends a signal to the current run, checking that the pid is still ours. */
  signal(signal: NodeJS.Signals, group: boolean): void {
    this.refuseRemote("signal");
    const run = this.run;
    if (!run || run.exitedAt || run.pid <= 0 || !(this.state === "RUNNING" || this.state === "STARTING" || this.state === "STOPPING")) {
      throw new WrongStateError(`${this.name} is ${this.state}: no running process to signal`);
    }
    if (!isSameProcess(run.pid, run.pidStartTicks)) {
      throw new WrongStateError(`${this.name}: pid ${run.pid} is no longer the process corral started; not signalled`);
    }
    if (group) process.kill(-run.pid, signal);
    else process.kill(run.pid, signal);
  }

  /** Writes to the current run's stdin; resolves once the bytes were handed to the pipe. */
  async writeStdin(data: Uint8Array): Promise<number> {
    const stdin = this.openStdin();
    await new Promise<void>((resolve, reject) => {
      stdin.write(data, (error) => (error ? reject(new WrongStateError(`${this.name}: writing to stdin failed: ${error.message}`)) : resolve()));
    });
    return data.byteLength;
  }

  /** Closes the current run's stdin: the program reads end of file. */
  async closeStdin(): Promise<void> {
    const stdin = this.openStdin();
    await new Promise<void>((resolve) => stdin.end(resolve));
  }

  private openStdin(): NonNullable<ChildProcess["stdin"]> {
    if (!this.config.stdin) throw new WrongStateError(`${this.name} has no stdin: set stdin: true in its config`);
    const stdin = this.run?.child?.stdin;
    if (!stdin || this.run?.exitedAt || !(this.state === "STARTING" || this.state === "RUNNING")) {
      throw new WrongStateError(`${this.name} is ${this.state}: no running process to write to`);
    }
    if (stdin.writableEnded || stdin.destroyed) throw new WrongStateError(`${this.name}: stdin of pid ${this.run?.pid} was closed`);
    return stdin;
  }

  get retryPending(): boolean {
    return this.retryTimer !== undefined;
  }

  /**
   * Takes over a run a previous daemon started, found alive by the caller (same pid and start
   * ticks): RUNNING again with the same run id and uptime. No child handle: onGone is handed to
   * watchExit, which calls it when the process is gone (exit status then unknown).
   */
  adopt(saved: RestoredRun, restarts: number, watchExit: (run: Run, onGone: () => void) => void): void {
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const startedMono = performance.now() - Math.max(0, Date.now() - saved.startedAt.getTime());
    const cgroup = this.deps.cgroups ? RunCgroup.existing(this.deps.cgroups, saved.runId) : undefined;
    const run: Run = { ...saved, startedMono, exited, adopted: true, cgroup };
    this.beginRestore(run, restarts);
    this.watchLogs();
    this.startReadiness(run, saved.logStart);
    this.becomeRunning(run, `re-adopted pid ${run.pid} (run ${run.runId}) after a daemon restart`);
    watchExit(run, () => {
      if (run.exitedAt) return;
      run.exitedAt = new Date();
      run.exitStatusUnknown = "a re-adopted run is not a child of this daemon";
      this.onExit(run);
      markExited();
    });
  }

  /** A run a previous daemon left has ended (or its pid is another process now): exited, policy applies. */
  restoreEnded(saved: RestoredRun, restarts: number, why: string): void {
    const run: Run = { ...saved, startedMono: performance.now() - Math.max(0, Date.now() - saved.startedAt.getTime()), exited: Promise.resolve(), exitedAt: new Date(), exitStatusUnknown: why };
    this.beginRestore(run, restarts);
    this.onExit(run);
  }

  /**
   * A program that had finished before the previous daemon died (EXITED, FATAL, STOPPED) comes
   * back as it was: same state, reason and last run with its exit; nothing is started.
   */
  restoreFinished(state: "EXITED" | "FATAL" | "STOPPED", reason: string, since: Date | undefined, saved: RestoredRun & EndedRun, restarts: number): void {
    if (this.state !== "STOPPED" || this.run) throw new Error(`bug: ${this.name} restored twice or after a start`);
    const run: Run = { ...saved, startedMono: performance.now() - Math.max(0, Date.now() - saved.startedAt.getTime()), exited: Promise.resolve() };
    // Not a transition: the program was in this state all along; only the daemon changed.
    this.state = state;
    this.stateReason = reason;
    if (since) this.stateSince = since;
    this.run = run;
    this.restarts = restarts;
  }

  private beginRestore(run: Run, restarts: number): void {
    if (this.state !== "STOPPED" || this.run) throw new Error(`bug: ${this.name} restored twice or after a start`);
    // Not a transition: a restored program's state is UNKNOWN until its run is checked, as if it had been created so.
    this.state = "UNKNOWN";
    this.stateReason = `run ${run.runId} (pid ${run.pid}) of the previous daemon`;
    this.run = run;
    this.restarts = restarts;
    this.desired = "running";
  }

  /** Releases timers and watchers (the program must be down). */
  dispose(): void {
    this.stopProbes();
    this.cancelRetry();
    if (this.startsecsTimer) clearTimeout(this.startsecsTimer);
    this.stdout.stopWatching();
    this.stderr.stopWatching();
  }
}
