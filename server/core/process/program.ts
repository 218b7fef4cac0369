// One program's life: its state (supervisord's states, changed only through transition() and the
// one restore()), its runs from spawn to exit, the restart policy's decisions applied with their
// timers, and the stop of its run. Its parts live beside it: program-states.ts (the table), run.ts,
// spawn-run.ts (the fork), program-probes.ts, restart-policy.ts (pure), stdin.ts, state-waiters.ts.
import { ResourceExhaustedError, TimeoutError, WrongStateError } from "../errors.js";
import { errnoOf } from "../resource-errors.js";
import { crashPoint } from "../failpoints.js";
import type { EventDetail, EventJournal } from "./journal.js";
import type { LogBudget } from "./log-budget.js";
import { LogFile } from "./log-file.js";
import { armReadinessTimeout } from "./readiness-timeout.js";
import { sleep } from "../os/abort.js";
import { KILL_WAIT_MS, stopProcessGroup, type ProcessGroupRef } from "../os/group-stop.js";
import { RunCgroup, type CgroupSupport } from "../os/cgroup.js";
import { groupExists, isSameProcess, readStat } from "../os/proc.js";
import { checkSpawnable } from "../os/spawnable.js";
import { decideAfterExit, decideAfterFailedStart, isExpectedExit, NO_RESTARTS, type RestartHistory } from "./restart-policy.js";
import { ProgramProbes } from "./program-probes.js";
import { checkTransition } from "./program-states.js";
import { spawnChild, spawnProblem, type RunSpawnProblem } from "./spawn-run.js";
import { StateWaiters } from "./state-waiters.js";
import { closeStdin, writeStdin } from "./stdin.js";
import { describeExit, restoredRun, type EndedRun, type RestoredRun, type Run } from "./run.js";
import { stderrTail } from "./stderr-tail.js";
import type { ProcessSnapshot, ProcessState, ProgramConfig, RunSnapshot, ShutdownResult } from "./types.js";

/**
 * Who asked for a stop, said in its exit ("stopped by request"): an exit corral caused is an
 * expected one. Only "stop" changes the program's desired state: a restart or a config change
 * wants it running again, and the daemon's shutdown keeps the user's word (adopt.ts).
 */
export type StopCause = NonNullable<Run["stopCause"]>;

const STOP_CAUSE_TEXT: Record<StopCause, string> = {
  stop: "stopped by request",
  restart: "stopped by request (restart)",
  config: "stopped by request (config change)",
  shutdown: "stopped by request (daemon shutdown)",
};

export type { EndedRun, RestoredRun, Run } from "./run.js";

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

/** The user's last word (start or stop), kept across daemon restarts. */
export type DesiredState = "running" | "stopped";

/**
 * What a previous daemon left of a program (see adopt.ts), for restore(): a live run adopted,
 * a run that ended while no daemon watched, a program that had finished (EXITED, FATAL, STOPPED,
 * with its last run if it had one), or only the user's word (`intent`).
 */
export type Restoration =
  | { kind: "adopted"; run: RestoredRun; restarts: number; watchExit: (run: Run, onGone: () => void) => void }
  | { kind: "ended"; run: RestoredRun; restarts: number; why: string }
  | { kind: "finished"; state: "EXITED" | "FATAL" | "STOPPED"; reason: string; since?: Date; run?: RestoredRun & EndedRun; restarts: number }
  | { kind: "intent" };

export class Program {
  // State is changed only by transition() and restore(); readers use the getters below.
  private stateValue: ProcessState = "STOPPED";
  private stateReasonValue = "not started";
  private stateSinceValue = new Date();
  private runValue?: Run;
  private restartsValue = 0;
  private startAttemptsValue = 0;
  private configValue: ProgramConfig;
  private desiredValue?: DesiredState;
  private startPendingValue = false;
  private removingValue = false;
  /** What the restart policy remembers between exits (restart-policy.ts). */
  private restartHistory: RestartHistory = NO_RESTARTS;
  private retryTimer?: NodeJS.Timeout;
  private startsecsTimer?: NodeJS.Timeout;
  private nextRetryAtValue?: Date;
  private stopping?: Promise<ShutdownResult>;
  private readonly waiters = new StateWaiters<Program>(this);
  readonly stdout: LogFile;
  readonly stderr: LogFile;
  private readonly probes: ProgramProbes;

  constructor(
    config: ProgramConfig,
    private readonly deps: ProgramDeps,
    /**
     * An ad-hoc program's (CreateProgram) settings as a config file would hold them, kept for the
     * next daemon to re-create it; undefined for a program of the config file.
     */
    readonly adhocInput?: Record<string, unknown>,
  ) {
    this.configValue = config;
    this.stdout = new LogFile(deps.logDir, config.name, "stdout", config.log);
    this.stderr = new LogFile(deps.logDir, config.name, "stderr", config.log);
    this.stdout.onGrow = deps.logBudget?.noteGrowth;
    this.stderr.onGrow = deps.logBudget?.noteGrowth;
    for (const file of [this.stdout, this.stderr])
      file.onProblem = (message) => this.deps.journal.append(this.name, this.run?.runId ?? 0, { kind: "server", message });
    this.probes = new ProgramProbes({ stdout: this.stdout, stderr: this.stderr }, () => this);
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

  /** Created by CreateProgram (or re-created from a previous daemon's), not by the config file. */
  get adhoc(): boolean {
    return this.adhocInput !== undefined;
  }

  get config(): ProgramConfig {
    return this.configValue;
  }

  get state(): ProcessState {
    return this.stateValue;
  }

  get stateReason(): string {
    return this.stateReasonValue;
  }

  get stateSince(): Date {
    return this.stateSinceValue;
  }

  get run(): Run | undefined {
    return this.runValue;
  }

  /** Automatic restarts since the last start by a user. */
  get restarts(): number {
    return this.restartsValue;
  }

  /** Failed attempts in the current start (STARTING -> BACKOFF). */
  get startAttempts(): number {
    return this.startAttemptsValue;
  }

  get nextRetryAt(): Date | undefined {
    return this.nextRetryAtValue;
  }

  /** With a readiness probe, the probe's verdict while RUNNING; without one, RUNNING is ready. */
  get ready(): boolean {
    return this.stateValue === "RUNNING" && (this.config.readiness === undefined || this.probes.readinessVerdict === true);
  }

  /** The user's last word (start or stop), kept across daemon restarts; undefined: never said. */
  get desired(): DesiredState | undefined {
    return this.desiredValue;
  }

  /**
   * A start or restart was asked for (and saved) but has not spawned yet: a daemon killed in
   * between leaves the next one to do it (adopt.ts). Cleared by start(); from the spawn on, the
   * spawn log and the state say what happened.
   */
  get startPending(): boolean {
    return this.startPendingValue;
  }

  /**
   * What the user asked, recorded before anything is signalled or spawned so the manager can
   * save it first (durable intent): a start or restart (desired running, start pending) or a stop.
   */
  noteIntent(intent: "start" | "stop"): void {
    this.desiredValue = intent === "start" ? "running" : "stopped";
    this.startPendingValue = intent === "start";
  }

  /**
   * Set while the program is being removed (DeleteProgram, or dropped by an applied config):
   * it never starts again, so a start racing the removal cannot leave a run nobody tracks.
   */
  get removing(): boolean {
    return this.removingValue;
  }

  /** Marks the program as being removed (or, when the removal failed, as not any more). */
  setRemoving(removing: boolean): void {
    this.removingValue = removing;
  }

  /**
   * A changed config (ApplyConfig) for a program that keeps its state, runs and logs; what needs
   * a new run is decided by apply.ts. Rotation turned on for a run that is up is watched at once.
   */
  reconfigure(config: ProgramConfig): void {
    this.configValue = config;
    this.stdout.setConfig(config.log);
    this.stderr.setConfig(config.log);
    if (config.log.maxBytes > 0 && this.isActive()) {
      this.stdout.startWatching();
      this.stderr.startWatching();
    }
  }

  /** The other host this program runs on, or undefined when it runs here. */
  get remoteHost(): string | undefined {
    const host = this.config.host;
    return host !== undefined && host !== "" && host !== this.deps.hostName ? host : undefined;
  }

  /** Refuses an operation that would act on a process of another host. */
  private refuseRemote(what: string): void {
    const host = this.remoteHost;
    if (host !== undefined)
      throw new WrongStateError(`${this.name} runs on host ${host}, not on this host (${this.deps.hostName}): ${what} it on ${host}`, "REMOTE_PROGRAM", {
        subject: `program/${this.name}`,
        metadata: { program: this.name, host },
      });
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
      readinessProbe: this.probes.readinessStatus,
      livenessProbe: this.probes.livenessStatus,
    };
  }

  private emit(detail: EventDetail): void {
    this.deps.journal.append(this.name, this.run?.runId ?? 0, detail);
  }

  /** The one place a state changes: checks the transition table and publishes the event. */
  private transition(to: ProcessState, reason: string): void {
    const from = this.stateValue;
    checkTransition(from, to, `${this.name}: ${reason}`);
    this.setState(to, reason);
    if (to !== "STARTING" && to !== "RUNNING") this.probes.stop();
    this.changed({ kind: "stateChanged", from, to, reason });
  }

  private setState(to: ProcessState, reason: string, since = new Date()): void {
    this.stateValue = to;
    this.stateReasonValue = reason;
    this.stateSinceValue = since;
  }

  /** The tail of every change a snapshot shows (state, ready): the event, then waiters, then the store. */
  private changed(detail: EventDetail): void {
    this.emit(detail);
    this.waiters.wake();
    this.deps.onChange?.(this);
  }

  /** Resolves when test(program) holds (checked now and after each transition). */
  waitFor(test: (p: Program) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    const onTimeout = () => {
      const probe = this.probes.readinessStatus;
      const lastProbe = probe ? `; last readiness probe ${probe.ok ? "passed" : "failed"}: ${probe.message}` : "";
      return new TimeoutError(`${this.name}: not ${what} after ${timeoutMs} ms (state ${this.state}: ${this.stateReason}${lastProbe})`);
    };
    return this.waiters.wait(test, { timeoutMs, signal, onTimeout });
  }

  isActive(): boolean {
    return (
      this.state === "STARTING" ||
      this.state === "RUNNING" ||
      this.state === "STOPPING" ||
      this.state === "BACKOFF" ||
      (this.state === "EXITED" && this.retryTimer !== undefined)
    );
  }

  /** A user's start: refused while the program is already up or on its way. */
  start(): void {
    this.refuseRemote("start");
    if (this.removing)
      throw new WrongStateError(`${this.name} is being removed; it cannot be started`, "PROGRAM_REMOVING", { subject: `program/${this.name}` });
    if (this.state === "STARTING" || this.state === "RUNNING" || this.state === "BACKOFF") {
      throw new WrongStateError(`${this.name} is already ${this.state} (pid ${this.run?.pid ?? "-"}); stop it first or use restart`, "ALREADY_RUNNING", {
        subject: `program/${this.name}`,
        metadata: { program: this.name, state: this.state, pid: String(this.run?.pid ?? "") },
      });
    }
    if (this.state === "STOPPING") {
      throw new WrongStateError(`${this.name} is STOPPING; wait for it to stop, or use restart`, "PROGRAM_STOPPING", { subject: `program/${this.name}` });
    }
    this.cancelRetry();
    this.desiredValue = "running";
    this.startPendingValue = false;
    this.startAttemptsValue = 0;
    this.restartsValue = 0;
    this.restartHistory = NO_RESTARTS;
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
      throw new ResourceExhaustedError(
        `start of ${this.name} failed: ${failed.message}; the program is ${this.state} (${this.stateReason})`,
        failed.errno,
        failed.path,
      );
    }
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextRetryAtValue = undefined;
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
    this.runValue = run;
    const startOffsets = { stdout: this.stdout.endOffsetSync(), stderr: this.stderr.endOffsetSync() };
    run.logStart = startOffsets;

    const problem =
      reserveError !== undefined
        ? spawnProblem(this.name, reserveError, "reserving run ids in", this.deps.runIdPath ?? "the state directory")
        : checkSpawnable(this.config.cwd, this.config.command[0], this.config.env);
    if (problem) {
      this.spawnFailed(run, problem);
      markExited();
      return;
    }
    const spawned = spawnChild(this, runId, startOffsets, this.deps, this.containedArgv(run));
    if ("problem" in spawned) {
      this.spawnFailed(run, spawned.problem);
      markExited();
      return;
    }
    const child = spawned.child;
    run.child = child;
    if (child.pid === undefined) {
      // Node reports EMFILE, ENFILE, EAGAIN... of spawn itself on the next tick (see startChecked).
      child.once("error", (error: NodeJS.ErrnoException) => {
        this.spawnFailed(run, spawnProblem(this.name, error, "spawning", this.config.command[0]));
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
      this.startsecsTimer = armReadinessTimeout(
        this.config.readiness,
        () => this.run === run && this.state === "STARTING" && !run.exitedAt,
        (why) => {
          this.startsecsTimer = undefined;
          const last = this.probes.readinessStatus;
          run.killedBecause = `${why}${last ? `; last check: ${last.message}` : ""}`;
          void this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
        },
      );
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
    this.startAttemptsValue = 0;
    if (this.startsecsTimer) clearTimeout(this.startsecsTimer);
    this.startsecsTimer = undefined;
    this.transition("RUNNING", why);
    this.startLiveness(run);
  }

  private startReadiness(run: Run, startOffsets: { stdout: number; stderr: number }): void {
    this.probes.startReadiness(run, startOffsets, (ok, message) => this.onReadiness(run, ok, message));
  }

  /** A readiness verdict changed: an event, `ready` (derived from it), and STARTING -> RUNNING on the first pass. */
  private onReadiness(run: Run, ok: boolean, message: string): void {
    if (run.exitedAt || !(this.state === "STARTING" || this.state === "RUNNING")) return;
    const detail: EventDetail = { kind: "probeChanged", probe: "readiness", ok, message };
    if (ok && this.state === "STARTING") {
      this.emit(detail);
      this.becomeRunning(run, `readiness probe passed: ${message}`);
      return;
    }
    this.changed(detail);
  }

  private startLiveness(run: Run): void {
    this.probes.startLiveness(
      run,
      () => this.state === "RUNNING" && !run.exitedAt,
      (why) => {
        this.emit({ kind: "probeChanged", probe: "liveness", ok: false, message: why });
        run.killedBecause = why;
        // The exit then goes through onExit like a crash, so the restart policy decides.
        void this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
      },
    );
  }

  private spawnFailed(run: Run, problem: RunSpawnProblem): void {
    run.spawnError = problem.message;
    run.resourceError = problem.resource;
    run.exitedAt = new Date();
    this.emit({ kind: "spawnFailed", path: problem.path, errno: problem.errno, message: problem.message });
    if (this.state === "STARTING") this.startFailed(`spawn failed: ${problem.message}`);
  }

  /** STARTING ended too early: BACKOFF and retry, or FATAL when retries are used up. */
  private startFailed(why: string): void {
    this.startAttemptsValue++;
    const decision = decideAfterFailedStart(this.config, this.startAttempts, why);
    if (decision.action === "fatal") {
      this.transition("FATAL", decision.reason);
      return;
    }
    this.transition("BACKOFF", decision.reason);
    this.scheduleRetry(decision.delayMs, `retry ${this.startAttempts}/${this.config.startretries}`);
  }

  private scheduleRetry(delayMs: number, reason: string): void {
    this.cancelRetry();
    this.nextRetryAtValue = new Date(Date.now() + delayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.nextRetryAtValue = undefined;
      // A retry never spawns a program that has moved to another host meanwhile.
      if ((this.state === "BACKOFF" || this.state === "EXITED") && this.remoteHost === undefined && !this.removing) this.spawnRun(reason);
    }, delayMs);
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
    // An exit corral caused on request is expected, whatever the signal; only the others alarm.
    const expected = run.stopCause !== undefined || isExpectedExit(this.config, run);
    const tail = stderrTail(this.stderr.path, run.logStart?.stderr ?? 0, this.stderr.endOffsetSync());
    const described = describeExit(run);
    const reason = run.stopCause !== undefined ? `${STOP_CAUSE_TEXT[run.stopCause]}; ${described}` : `${described}${expected ? "" : " (unexpected)"}`;
    this.emit({ kind: "processExited", pid: run.pid, exitCode: run.exitCode, signal: run.exitSignal, expected, uptimeMs, reason, stderrTail: tail });
    // An unexpected exit's state reason ends with what the program last said (as exec tasks' errors do).
    const stderrNote = expected || tail.length === 0 ? "" : `; last stderr: ${tail.join(" | ")}`;
    if (this.run !== run) return;
    const what = described;
    if (this.state === "STOPPING") return; // the stop in progress finishes the transition
    if (this.state === "STARTING") {
      this.reapLeftovers(run);
      this.startFailed(run.killedBecause ? `${what}${stderrNote}` : `${what} before startsecs (${this.config.startsecsMs} ms)${stderrNote}`);
      return;
    }
    // UNKNOWN: a restored run found ended (see restoreEnded); the restart policy applies as usual.
    if (this.state !== "RUNNING" && this.state !== "UNKNOWN") return;
    this.reapLeftovers(run);
    const decision = decideAfterExit(
      this.config,
      { exitCode: run.exitCode, exitSignal: run.exitSignal, uptimeMs, what },
      this.restartHistory,
      performance.now(),
    );
    if (decision.action === "stay-exited") {
      this.transition("EXITED", `${decision.reason}${stderrNote}`);
      return;
    }
    this.restartHistory = decision.history;
    if (decision.action === "fatal") {
      this.transition("EXITED", `${decision.exitedReason}${stderrNote}`);
      this.transition("FATAL", `${decision.reason}${stderrNote}`);
      return;
    }
    this.restartsValue++;
    this.transition("EXITED", `${decision.reason}${stderrNote}`);
    this.scheduleRetry(decision.delayMs, `autorestart ${this.restarts} after: ${what}`);
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
      const why = errnoOf(error) ?? String(error);
      this.emit({ kind: "server", message: `${this.name}: run ${run.runId} gets no cgroup (${why}); it is stopped by process group and marker` });
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

  /** The two-stage stop of the run's processes (os/group-stop.ts): survivors (also journaled), and whether SIGKILL was needed. */
  private async killGroup(run: Run, signal: NodeJS.Signals, timeoutMs: number): Promise<{ survivors: number[]; killed: boolean }> {
    if (run.pid <= 0) return { survivors: [], killed: false };
    const result = await stopProcessGroup(this.groupOf(run), { signal, timeoutMs });
    if (result.survivors.length > 0) {
      const message = `${this.name}: ${result.survivors.length} process(es) of run ${run.runId} survived SIGKILL: ${result.survivors.join(", ")}`;
      this.deps.journal.append(this.name, run.runId, { kind: "server", message });
    } else if (run.exitedAt !== undefined || run.child === undefined) {
      run.cgroup?.removeWhenEmpty();
    }
    return result;
  }

  /**
   * A user's stop. Cancels a pending retry or restart; stops a live run two-stage. Returns the
   * pids that survived SIGKILL (expected empty). Stopping a program that is not up is a no-op.
   */
  async stop(cause: StopCause = "stop"): Promise<number[]> {
    return (await this.stopWithResult(cause)).survivors;
  }

  /** stop(), saying how it went (ShutdownResult): whether it ran, its pid, soft / hard / survivors / not_running. */
  async stopWithResult(cause: StopCause = "stop"): Promise<ShutdownResult> {
    if (this.stopping) return this.stopping;
    if (cause === "stop") this.noteIntent("stop");
    const notRunning: ShutdownResult = { wasRunning: false, pid: 0, how: "not_running", survivors: [] };
    if (this.state === "BACKOFF" || (this.state === "EXITED" && this.retryTimer)) {
      this.cancelRetry();
      this.transition("STOPPED", `${STOP_CAUSE_TEXT[cause]} (pending retry cancelled)`);
      return notRunning;
    }
    if (this.state !== "STARTING" && this.state !== "RUNNING") return notRunning;
    const run = this.run;
    if (!run) return notRunning;
    if (this.startsecsTimer) {
      clearTimeout(this.startsecsTimer);
      this.startsecsTimer = undefined;
    }
    this.transition("STOPPING", `sending ${this.config.stopSignal} to process group ${run.pid}`);
    run.stopCause = cause;
    this.stopping = (async (): Promise<ShutdownResult> => {
      const { survivors, killed } = await this.killGroup(run, this.config.stopSignal, this.config.stopTimeoutMs);
      await Promise.race([run.exited, sleep(KILL_WAIT_MS, undefined, { unref: true })]);
      const how = `${STOP_CAUSE_TEXT[cause]}; ${describeExit(run)}`;
      this.transition("STOPPED", survivors.length > 0 ? `${how}; ${survivors.length} process(es) survived SIGKILL: ${survivors.join(", ")}` : how);
      return { wasRunning: true, pid: run.pid, how: survivors.length > 0 ? "survivors" : killed ? "hard" : "soft", survivors };
    })();
    // The stop signal is out (killGroup sends it before its first wait): a crash test's point (failpoints.ts).
    crashPoint("crash-after-stop-signal");
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
      throw new WrongStateError(`${this.name} is ${this.state}: no running process to signal`, "NOT_RUNNING", {
        subject: `program/${this.name}`,
        metadata: { program: this.name, state: this.state },
      });
    }
    if (!isSameProcess(run.pid, run.pidStartTicks)) {
      throw new WrongStateError(`${this.name}: pid ${run.pid} is no longer the process corral started; not signalled`, "PID_REUSED", {
        subject: `program/${this.name}`,
      });
    }
    if (group) process.kill(-run.pid, signal);
    else process.kill(run.pid, signal);
  }

  /** Writes to the current run's stdin (stdin.ts). */
  writeStdin(data: Uint8Array): Promise<number> {
    return writeStdin(this, data);
  }

  /** Closes the current run's stdin: the program reads end of file (stdin.ts). */
  closeStdin(): Promise<void> {
    return closeStdin(this);
  }

  get retryPending(): boolean {
    return this.retryTimer !== undefined;
  }

  /**
   * The one sanctioned way state changes outside transition(): brings back what the previous
   * daemon left (adopt.ts), once, before anything started the program. The program was in that
   * state all along (only the daemon changed), so the transition table does not apply; the change
   * is published like a transition, from STOPPED (as created) to the restored state, so a watcher
   * sees every state a program is in. Then: an adopted run becomes RUNNING again (same run id and
   * uptime; no child handle: watchExit calls onGone when the process is gone, exit status then
   * unknown); an ended run goes through the restart policy as an exit does.
   */
  restore(saved: Restoration, desired?: DesiredState): void {
    if (this.stateValue !== "STOPPED" || this.runValue) throw new Error(`bug: ${this.name} restored twice or after a start`);
    if (saved.kind === "intent") {
      if (desired) this.desiredValue = desired;
      return;
    }
    const from = this.stateValue;
    let reason: string;
    if (saved.kind === "finished") {
      if (desired) this.desiredValue = desired;
      if (saved.run) this.runValue = restoredRun(saved.run, Promise.resolve());
      this.restartsValue = saved.restarts;
      reason = saved.reason;
      this.setState(saved.state, reason, saved.since);
    } else {
      // Its state is UNKNOWN until its run is checked (adopted: alive; ended: exited).
      this.desiredValue = desired ?? "running";
      this.restartsValue = saved.restarts;
      reason = `run ${saved.run.runId} (pid ${saved.run.pid}) of the previous daemon`;
      this.setState("UNKNOWN", reason);
    }
    this.changed({ kind: "stateChanged", from, to: this.stateValue, reason: `restored: ${reason}` });
    if (saved.kind === "adopted") this.adopt(saved.run, saved.watchExit);
    else if (saved.kind === "ended") {
      const run = restoredRun(saved.run, Promise.resolve());
      run.exitedAt = new Date();
      run.exitStatusUnknown = saved.why;
      this.runValue = run;
      this.onExit(run);
    }
  }

  private adopt(saved: RestoredRun, watchExit: (run: Run, onGone: () => void) => void): void {
    let markExited!: () => void;
    const cgroup = this.deps.cgroups ? RunCgroup.existing(this.deps.cgroups, saved.runId) : undefined;
    const run: Run = { ...restoredRun(saved, new Promise<void>((resolve) => (markExited = resolve))), adopted: true, cgroup };
    this.runValue = run;
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

  /** Releases timers and watchers (the program must be down). */
  dispose(): void {
    this.probes.stop();
    this.cancelRetry();
    if (this.startsecsTimer) clearTimeout(this.startsecsTimer);
    this.stdout.stopWatching();
    this.stderr.stopWatching();
  }
}
