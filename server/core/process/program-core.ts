// The state of one program and the one path that changes it: supervisord's state with its reason
// and time, the current run, the counts a snapshot shows and the user's last word. The state
// changes only through transition() (checked against program-states.ts) or, once, restoreState();
// each change publishes its event, then tells the owner (waiters, the store). Program owns one and
// hands it to its parts: run-start.ts, run-exit.ts, run-stop.ts, program-restore.ts.
import { WrongStateError } from "../errors.js";
import type { CgroupSupport } from "../os/cgroup.js";
import type { EventDetail, EventJournal } from "./journal.js";
import type { LogBudget } from "./log-budget.js";
import type { LogFile } from "./log-file.js";
import { ProgramLogs } from "./program-logs.js";
import { ProgramProbes } from "./program-probes.js";
import { checkTransition } from "./program-states.js";
import type { Run } from "./run.js";
import type { ProcessState, ProgramConfig } from "./types.js";

export interface ProgramCoreDeps {
  journal: EventJournal;
  nextRunId: () => number;
  logDir: string;
  /** This daemon's host name: a program whose config names another host is remote. */
  hostName: string;
  /** The run-id reservation file, named in errors when reserving fails. */
  runIdPath?: string;
  /** The total cap on all programs' logs (log-budget.ts); told when this program's logs grow. */
  logBudget?: LogBudget;
  /** Added to every run's environment: which daemon home the run belongs to (spawn-recovery.ts). */
  markerEnv?: Record<string, string>;
  /** What the host offers for containment: each run gets its own cgroup unless mode is "none". */
  cgroups?: CgroupSupport;
  /** Watches a run that is no child of the daemon's (its spawner died): onGone once it has ended (adopted-exit-watcher.ts). */
  watchExit: (run: Run, onGone: () => void) => void;
  /** Records each spawn at once, before and after the fork (store/spawn-log.ts). */
  spawnLog?: {
    intent(program: string, runId: number, logStart: { stdout: number; stderr: number }): void;
    spawned(program: string, runId: number, pid: number, pidStartTicks: number): void;
  };
}

/** The user's last word (start or stop), kept across daemon restarts. */
export type DesiredState = "running" | "stopped";

export class ProgramCore {
  private configValue: ProgramConfig;
  private stateValue: ProcessState = "STOPPED";
  private stateReasonValue = "not started";
  private stateSinceValue = new Date();
  private runValue?: Run;
  private restartsValue = 0;
  private startAttemptsValue = 0;
  private desiredValue?: DesiredState;
  private startPendingValue = false;
  private removingValue = false;
  /** The timer that ends STARTING (startsecs, or the readiness probe's start_timeout). */
  private startTimer?: NodeJS.Timeout;
  /** stdout, stderr and the custom streams' files (program-logs.ts). */
  readonly logs: ProgramLogs;
  readonly stdout: LogFile;
  readonly stderr: LogFile;
  readonly probes: ProgramProbes;

  constructor(
    config: ProgramConfig,
    readonly deps: ProgramCoreDeps,
    /** The tail of every change after its event: the owner wakes its waiters and tells the store. */
    private readonly notify: () => void,
  ) {
    this.configValue = config;
    this.logs = new ProgramLogs(deps.logDir, config, {
      onGrow: deps.logBudget?.noteGrowth,
      rotationHold: deps.logBudget?.hold,
      onProblem: (message) => this.emit({ kind: "server", message }),
    });
    this.stdout = this.logs.stdout;
    this.stderr = this.logs.stderr;
    this.probes = new ProgramProbes({ stdout: this.stdout, stderr: this.stderr }, () => this);
  }

  get name(): string {
    return this.configValue.name;
  }

  get config(): ProgramConfig {
    return this.configValue;
  }

  /** A changed config (Program.reconfigure): the log files follow it. */
  setConfig(config: ProgramConfig): void {
    this.configValue = config;
    this.logs.reconfigure(config);
  }

  /** The custom streams' files in config order (the child's fds 3, 4, ...), for the spawn. */
  get customLogs(): LogFile[] {
    return this.logs.customFiles();
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

  /** The one place a state changes: checks the transition table and publishes the event. */
  transition(to: ProcessState, reason: string): void {
    const from = this.stateValue;
    checkTransition(from, to, `${this.name}: ${reason}`);
    this.setState(to, reason);
    if (to !== "STARTING" && to !== "RUNNING") this.probes.stop();
    this.changed({ kind: "stateChanged", from, to, reason });
  }

  /**
   * The state a previous daemon left (program-restore.ts), outside the table: the program was in
   * it all along. Published like a transition, from STOPPED (as created), with "restored: ".
   */
  restoreState(to: ProcessState, reason: string, since?: Date): void {
    const from = this.stateValue;
    this.setState(to, reason, since);
    this.changed({ kind: "stateChanged", from, to, reason: `restored: ${reason}` });
  }

  private setState(to: ProcessState, reason: string, since = new Date()): void {
    this.stateValue = to;
    this.stateReasonValue = reason;
    this.stateSinceValue = since;
  }

  /** The tail of every change a snapshot shows (state, ready): the event, then the owner. */
  changed(detail: EventDetail): void {
    this.emit(detail);
    this.notify();
  }

  emit(detail: EventDetail): void {
    this.deps.journal.append(this.name, this.runValue?.runId ?? 0, detail);
  }

  get run(): Run | undefined {
    return this.runValue;
  }

  /** The run now current (a spawn, an adopted or a restored one). */
  setRun(run: Run): void {
    this.runValue = run;
  }

  /** Automatic restarts since the last start by a user. */
  get restarts(): number {
    return this.restartsValue;
  }

  countRestart(): void {
    this.restartsValue++;
  }

  /** Failed attempts in the current start (STARTING -> BACKOFF). */
  get startAttempts(): number {
    return this.startAttemptsValue;
  }

  countFailedStart(): void {
    this.startAttemptsValue++;
  }

  /** A user's start: it is running that the user wants, no start is pending, and counting starts over. */
  userStarted(): void {
    this.desiredValue = "running";
    this.startPendingValue = false;
    this.restartsValue = 0;
    this.startAttemptsValue = 0;
  }

  /** A restored program's restart count, as the previous daemon saved it. */
  restoreRestarts(restarts: number): void {
    this.restartsValue = restarts;
  }

  /** A run got RUNNING: its start's failed attempts are forgotten. */
  startSucceeded(): void {
    this.startAttemptsValue = 0;
  }

  get desired(): DesiredState | undefined {
    return this.desiredValue;
  }

  get startPending(): boolean {
    return this.startPendingValue;
  }

  /** The user's word (Program.noteIntent): start or restart means running with a start pending. */
  noteIntent(intent: "start" | "stop"): void {
    this.desiredValue = intent === "start" ? "running" : "stopped";
    this.startPendingValue = intent === "start";
  }

  /** A restored program's saved word (program-restore.ts). */
  restoreDesired(desired: DesiredState): void {
    this.desiredValue = desired;
  }

  get removing(): boolean {
    return this.removingValue;
  }

  setRemoving(removing: boolean): void {
    this.removingValue = removing;
  }

  /** The other host this program runs on, or undefined when it runs here. */
  get remoteHost(): string | undefined {
    const host = this.configValue.host;
    return host !== undefined && host !== "" && host !== this.deps.hostName ? host : undefined;
  }

  /** Refuses an operation that would act on a process of another host. */
  refuseRemote(what: string): void {
    const host = this.remoteHost;
    if (host !== undefined)
      throw new WrongStateError(`${this.name} runs on host ${host}, not on this host (${this.deps.hostName}): ${what} it on ${host}`, "REMOTE_PROGRAM", {
        subject: `program/${this.name}`,
        metadata: { program: this.name, host },
      });
  }

  /** Arms the timer that ends STARTING (a previous one is cleared). */
  armStartTimer(timer: NodeJS.Timeout): void {
    this.clearStartTimer();
    this.startTimer = timer;
  }

  clearStartTimer(): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = undefined;
  }
}
