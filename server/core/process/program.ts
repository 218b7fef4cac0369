// One program's life, as the manager and the services see it: its state (supervisord's), its
// current run, start, stop, signal, stdin and restore. The state lives in program-core.ts, changed
// only by its transition() and, once, restore(); the parts that drive it live beside it:
// run-start.ts (spawn to RUNNING, probes), run-exit.ts (exit and restart policy), run-stop.ts
// (group stop, signals), program-restore.ts (what a previous daemon left), stdin.ts.
import { ResourceExhaustedError, TimeoutError, WrongStateError } from "../errors.js";
import type { LogFile } from "./log-file.js";
import { ProgramCore, type DesiredState, type ProgramCoreDeps } from "./program-core.js";
import { restoreProgram, type Restoration } from "./program-restore.js";
import { runSnapshotOf, type Run } from "./run.js";
import { RunExits } from "./run-exit.js";
import { RunStarter } from "./run-start.js";
import { RunStopper, signalRun, stopOverMemory, type StopCause } from "./run-stop.js";
import { StateWaiters } from "./state-waiters.js";
import { closeStdin, writeStdin } from "./stdin.js";
import type { LogStreamName, ProcessSnapshot, ProcessState, ProgramConfig, ShutdownResult } from "./types.js";

export type { DesiredState } from "./program-core.js";
export type { Restoration } from "./program-restore.js";
export type { EndedRun, RestoredRun, Run } from "./run.js";
export type { StopCause } from "./run-stop.js";

export interface ProgramDeps extends ProgramCoreDeps {
  /** Called after every state change (e.g. to wake waiters kept elsewhere). */
  onChange?: (program: Program) => void;
}

export class Program {
  // The state and its one change path; private, read through the getters below.
  private readonly core: ProgramCore;
  private readonly waiters = new StateWaiters<Program>(this);
  private readonly starter: RunStarter;
  private readonly exits: RunExits;
  private readonly stopper: RunStopper;
  readonly stdout: LogFile;
  readonly stderr: LogFile;

  constructor(
    config: ProgramConfig,
    deps: ProgramDeps,
    /**
     * An ad-hoc program's (CreateProgram) settings as a config file would hold them, kept for the
     * next daemon to re-create it; undefined for a program of the config file.
     */
    readonly adhocInput?: Record<string, unknown>,
  ) {
    this.core = new ProgramCore(config, deps, () => {
      this.waiters.wake();
      deps.onChange?.(this);
    });
    this.stdout = this.core.stdout;
    this.stderr = this.core.stderr;
    this.exits = new RunExits(this.core, (reason, restart) => this.starter.spawnRun(reason, restart));
    this.starter = new RunStarter(this.core, this.exits);
    this.stopper = new RunStopper(this.core, this.exits);
  }

  get name(): string {
    return this.core.name;
  }

  /** Created by CreateProgram (or re-created from a previous daemon's), not by the config file. */
  get adhoc(): boolean {
    return this.adhocInput !== undefined;
  }

  get config(): ProgramConfig {
    return this.core.config;
  }

  get state(): ProcessState {
    return this.core.state;
  }

  get stateReason(): string {
    return this.core.stateReason;
  }

  get stateSince(): Date {
    return this.core.stateSince;
  }

  get run(): Run | undefined {
    return this.core.run;
  }

  /** Automatic restarts since the last start by a user. */
  get restarts(): number {
    return this.core.restarts;
  }

  /** Failed attempts in the current start (STARTING -> BACKOFF). */
  get startAttempts(): number {
    return this.core.startAttempts;
  }

  get nextRetryAt(): Date | undefined {
    return this.exits.nextRetryAt;
  }

  get retryPending(): boolean {
    return this.exits.pending;
  }

  /** With a readiness probe, the probe's verdict while RUNNING; without one, RUNNING is ready. */
  get ready(): boolean {
    return this.state === "RUNNING" && (this.config.readiness === undefined || this.core.probes.readinessVerdict === true);
  }

  /** The user's last word (start or stop), kept across daemon restarts; undefined: never said. */
  get desired(): DesiredState | undefined {
    return this.core.desired;
  }

  /**
   * A start or restart was asked for (and saved) but has not spawned yet: a daemon killed in
   * between leaves the next one to do it (adopt.ts). Cleared by start(); from the spawn on, the
   * spawn log and the state say what happened.
   */
  get startPending(): boolean {
    return this.core.startPending;
  }

  /**
   * What the user asked, recorded before anything is signalled or spawned so the manager can
   * save it first (durable intent): a start or restart (desired running, start pending) or a stop.
   */
  noteIntent(intent: "start" | "stop"): void {
    this.core.noteIntent(intent);
  }

  /**
   * Set while the program is being removed (DeleteProgram, or dropped by an applied config):
   * it never starts again, so a start racing the removal cannot leave a run nobody tracks.
   */
  get removing(): boolean {
    return this.core.removing;
  }

  /** Marks the program as being removed (or, when the removal failed, as not any more). */
  setRemoving(removing: boolean): void {
    this.core.setRemoving(removing);
  }

  /**
   * A changed config (ApplyConfig) for a program that keeps its state, runs and logs; what needs
   * a new run is decided by apply.ts. Rotation turned on for a run that is up is watched at once.
   */
  reconfigure(config: ProgramConfig): void {
    this.core.setConfig(config);
    if (config.log.maxBytes > 0 && this.isActive()) this.core.logs.startWatching();
  }

  /** The other host this program runs on, or undefined when it runs here. */
  get remoteHost(): string | undefined {
    return this.core.remoteHost;
  }

  snapshot(): ProcessSnapshot {
    const run = this.run;
    const alive = run && !run.exitedAt && !run.spawnError;
    return {
      name: this.name,
      state: this.state,
      // Nothing of a remote program runs here; say where it does.
      stateReason: this.remoteHost !== undefined && !this.isActive() ? `remote: runs on host ${this.remoteHost}` : this.stateReason,
      stateSince: this.stateSince,
      run: run && runSnapshotOf(run),
      restarts: this.restarts,
      startAttempts: this.startAttempts,
      config: this.config,
      ready: this.ready,
      adhoc: this.adhoc,
      host: this.config.host || this.core.deps.hostName,
      remote: this.remoteHost !== undefined,
      nextRetryAt: this.nextRetryAt,
      uptimeMs: alive ? performance.now() - run.startedMono : undefined,
      readinessProbe: this.core.probes.readinessStatus,
      livenessProbe: this.core.probes.livenessStatus,
    };
  }

  /** Resolves when test(program) holds (checked now and after each transition). */
  waitFor(test: (p: Program) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    const onTimeout = () => {
      const probe = this.core.probes.readinessStatus;
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
      (this.state === "EXITED" && this.exits.pending)
    );
  }

  /** A user's start: refused while the program is already up or on its way. */
  start(): void {
    this.core.refuseRemote("start");
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
    this.exits.reset();
    this.core.userStarted();
    this.starter.spawnRun("start requested");
  }

  /**
   * A user's start that also reports a spawn that failed for want of disk space or file
   * descriptors, as a ResourceExhaustedError naming the path, what ran out, and what happens
   * next (the restart policy's retry). Spawn's own EMFILE comes on the next tick, the spawner's
   * answer (os/spawner.ts) when it comes: waited for.
   */
  async startChecked(): Promise<void> {
    this.start();
    const run = this.run;
    if (run?.spawning) await run.spawning;
    else if (run && !run.resourceError && run.pid <= 0 && !run.exitedAt) await new Promise<void>((resolve) => setImmediate(resolve));
    const failed = run?.resourceError;
    if (failed && this.run === run) {
      throw new ResourceExhaustedError(
        `start of ${this.name} failed: ${failed.message}; the program is ${this.state} (${this.stateReason})`,
        failed.errno,
        failed.path,
      );
    }
  }

  /**
   * A user's stop. Cancels a pending retry or restart; stops a live run two-stage. Returns the
   * pids that survived SIGKILL (expected empty). Stopping a program that is not up is a no-op.
   */
  async stop(cause: StopCause = "stop"): Promise<number[]> {
    return (await this.stopWithResult(cause)).survivors;
  }

  /** stop(), saying how it went (ShutdownResult): whether it ran, its pid, soft / hard / survivors / not_running. */
  stopWithResult(cause: StopCause = "stop"): Promise<ShutdownResult> {
    return this.stopper.stop(cause);
  }

  /**
   * max_memory (PM2's max_memory_restart): run runId's tree went over it. An event, then the run
   * is stopped two-stage like a failed liveness probe, and its exit (unexpected) goes through the
   * restart policy as autorestart: always would (backoff, max_restarts, FATAL), whatever the
   * program's autorestart says; in STARTING it is a failed start. A user's stop meanwhile wins.
   */
  async restartOverMemory(runId: number, rssBytes: number, maxMemoryBytes: number): Promise<void> {
    await stopOverMemory(this.core, runId, rssBytes, maxMemoryBytes);
  }

  /** Sends a signal to the current run, checking that the pid is still ours. */
  signal(signal: NodeJS.Signals, group: boolean): void {
    signalRun(this.core, signal, group);
  }

  /** Writes to the current run's stdin (stdin.ts). */
  writeStdin(data: Uint8Array): Promise<number> {
    return writeStdin(this, data);
  }

  /** Closes the current run's stdin: the program reads end of file (stdin.ts). */
  closeStdin(): Promise<void> {
    return closeStdin(this);
  }

  /**
   * The one sanctioned way state changes outside transition(): brings back what the previous
   * daemon left (adopt.ts), once, before anything started the program (program-restore.ts).
   */
  restore(saved: Restoration, desired?: DesiredState): void {
    restoreProgram(this.core, { starter: this.starter, exits: this.exits }, saved, desired);
  }

  /** Releases timers and watchers (the program must be down). */
  dispose(): void {
    this.core.probes.stop();
    this.exits.cancel();
    this.core.clearStartTimer();
    this.core.logs.stopWatching();
  }

  /** A stream's log file by the core's name: "stdout", "stderr" or a custom stream (log-access.ts). */
  logFile(stream: LogStreamName): LogFile {
    return this.core.logs.file(stream);
  }

  /** Every log file of the program: stdout, stderr, the custom streams (for the total cap). */
  logFiles(): LogFile[] {
    return this.core.logs.all();
  }
}
