// What the state store keeps of the programs, and back: every program as SavedState (a program
// the daemon's own shutdown stopped is saved as never run, with the user's word kept), a Run as a
// SavedRun, and a saved ended run as Program.restore() takes it.
import type { DesiredState, SavedProgram, SavedRun, SavedState } from "../store/state-store.js";
import type { EndedRun, Program, RestoredRun, Run } from "./program.js";

export interface SnapshotOptions {
  bootId: string;
  /** Set once shutdown began: the user's word as it was then (the stops that follow are the daemon's). */
  frozenDesired?: ReadonlyMap<string, DesiredState | undefined>;
  /** Programs that were up when shutdown began: what the daemon stops now, the next one starts. */
  upAtShutdown?: ReadonlySet<string>;
}

export function savedStateOf(programs: Iterable<Program>, options: SnapshotOptions): SavedState {
  const saved: Record<string, SavedProgram> = {};
  for (const program of programs) saved[program.name] = savedProgramOf(program, options);
  return { version: 1, savedAt: new Date().toISOString(), bootId: options.bootId, daemonPid: process.pid, programs: saved };
}

/**
 * savedStateOf as the JSON text the store writes, built from each program's record text, kept
 * and made again only when what the record is made of changed (recordInputs). The state is saved
 * after every change (coalesced per turn), and a start-all of N programs makes ~N changes: a
 * document rebuilt whole each time was N² records (a second of the daemon's CPU at 500).
 */
export class SavedStateText {
  private readonly records = new WeakMap<Program, { inputs: unknown[]; text: string }>();

  /** recordInputs is written here and compared with the record's, so a save of unchanged programs allocates no inputs. */
  private scratch: unknown[] = [];

  of(programs: Iterable<Program>, options: SnapshotOptions): string {
    const parts: string[] = [];
    for (const program of programs) {
      const inputs = recordInputs(program, options, this.scratch);
      let record = this.records.get(program);
      if (!record || !sameInputs(record.inputs, inputs)) {
        record = { inputs, text: `${JSON.stringify(program.name)}:${JSON.stringify(savedProgramOf(program, options))}` };
        this.records.set(program, record);
        // The record keeps this array: the next program's inputs go to a new one.
        this.scratch = [];
      }
      parts.push(record.text);
    }
    const header = `"version":1,"savedAt":${JSON.stringify(new Date().toISOString())},"bootId":${JSON.stringify(options.bootId)},"daemonPid":${process.pid}`;
    return `{${header},"programs":{${parts.join(",")}}}`;
  }
}

/** Everything savedProgramOf reads (keep the two together): the same inputs make the same record. */
function recordInputs(program: Program, options: SnapshotOptions, into: unknown[]): unknown[] {
  const run = program.run;
  // Written in place (a save of 500 programs made 500 of these arrays, per save).
  into[0] = program.name;
  into[1] = options.frozenDesired ? options.frozenDesired.get(program.name) : program.desired;
  into[2] = options.upAtShutdown?.has(program.name) ?? false;
  into[3] = program.restarts;
  into[4] = program.retryPending;
  into[5] = program.startPending;
  into[6] = program.adhocInput;
  into[7] = program.state;
  into[8] = program.stateReason;
  into[9] = program.stateSince.getTime();
  into[10] = run;
  into[11] = run?.runId;
  into[12] = run?.pid;
  into[13] = run?.pidStartTicks;
  into[14] = run?.startedAt.getTime();
  into[15] = run?.logStart?.stdout;
  into[16] = run?.logStart?.stderr;
  into[17] = run?.exitedAt?.getTime();
  into[18] = run?.exitCode;
  into[19] = run?.exitSignal;
  into[20] = run?.spawnError;
  into[21] = run?.exitStatusUnknown;
  into.length = 22;
  return into;
}

function sameInputs(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return a.length === b.length;
}

function savedProgramOf(program: Program, options: SnapshotOptions): SavedProgram {
  const run = program.run;
  const desired = options.frozenDesired ? options.frozenDesired.get(program.name) : program.desired;
  const live = run && !run.exitedAt && run.pid > 0;
  const common = {
    desired,
    restarts: program.restarts,
    retryPending: program.retryPending,
    startPending: program.startPending || undefined,
    adhocProgram: program.adhocInput,
    ...(options.upAtShutdown?.has(program.name) ? { upAtShutdown: true } : {}),
  };
  if (options.upAtShutdown?.has(program.name) && !live) {
    // Stopped by the daemon's own shutdown, not by the user: saved as never run, so autostart
    // (or a pending retry) decides again under the next daemon, as before a first start.
    return { ...common, state: "STOPPED", stateReason: "stopped by the daemon's shutdown", stoppedByShutdown: true };
  }
  return {
    ...common,
    state: program.state,
    stateReason: program.stateReason,
    stateSince: program.stateSince.toISOString(),
    run: run ? savedRunOf(run) : undefined,
  };
}

export function isFinished(state: string): state is "EXITED" | "FATAL" | "STOPPED" {
  return state === "EXITED" || state === "FATAL" || state === "STOPPED";
}

/** A run as saved: alive (no exit fields), ended (with its exit), or in the middle of a spawn (not saved). */
function savedRunOf(run: Run): SavedRun | undefined {
  const alive = !run.exitedAt && !run.spawnError && run.pid > 0;
  if (!alive && !run.exitedAt) return undefined;
  const base: SavedRun = {
    runId: run.runId,
    pid: run.pid,
    pidStartTicks: run.pidStartTicks,
    startedAt: run.startedAt.toISOString(),
    stdoutStart: run.logStart?.stdout ?? 0,
    stderrStart: run.logStart?.stderr ?? 0,
  };
  if (alive) return base;
  return {
    ...base,
    exitedAt: run.exitedAt?.toISOString(),
    exitCode: run.exitCode,
    exitSignal: run.exitSignal,
    spawnError: run.spawnError,
    exitStatusUnknown: run.exitStatusUnknown,
  };
}

/** A saved run that had ended, as Program.restore() takes it (kind finished). */
export function endedRunOf(run: SavedRun): RestoredRun & EndedRun {
  return {
    runId: run.runId,
    pid: run.pid,
    pidStartTicks: run.pidStartTicks,
    startedAt: new Date(run.startedAt),
    logStart: { stdout: run.stdoutStart, stderr: run.stderrStart },
    exitedAt: new Date(run.exitedAt ?? Date.now()),
    exitCode: run.exitCode,
    exitSignal: run.exitSignal,
    spawnError: run.spawnError,
    exitStatusUnknown: run.exitStatusUnknown,
  };
}
