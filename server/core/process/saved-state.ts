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
  for (const program of programs) {
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
      saved[program.name] = { ...common, state: "STOPPED", stateReason: "stopped by the daemon's shutdown", stoppedByShutdown: true };
      continue;
    }
    saved[program.name] = {
      ...common,
      state: program.state,
      stateReason: program.stateReason,
      stateSince: program.stateSince.toISOString(),
      run: run ? savedRunOf(run) : undefined,
    };
  }
  return { version: 1, savedAt: new Date().toISOString(), bootId: options.bootId, daemonPid: process.pid, programs: saved };
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
