// Re-adoption after a daemon restart: what the previous daemon saved, applied to the programs of
// this one (once, before autostart). Alive with the same pid and start ticks -> adopted, RUNNING
// with the same run id; ended, or pid now another process -> exited (status unknown) and the
// restart policy applies. Programs the user stopped stay stopped; EXITED and FATAL ones come back
// as they were; ad-hoc programs are re-created from their saved config; runs of programs no longer
// configured are stopped. persistence.ts reads the state and calls this.
import type { SavedRun, SavedState } from "../store/state-store.js";
import { stopProcessGroup } from "../os/group-stop.js";
import { isSameProcess, readStat } from "../os/proc.js";
import type { EventJournal } from "./journal.js";
import type { Program, RestoredRun, Run } from "./program.js";
import { endedRunOf, isFinished } from "./saved-state.js";
import type { ProgramConfig } from "./types.js";

/** A run left by a program that is no longer configured gets this long after SIGTERM. */
const ORPHAN_STOP_TIMEOUT_MS = 5_000;

export interface RestoreOutcome {
  /** Programs whose saved state decides (adopted, ended, stopped by the user): no autostart. */
  restored: Set<string>;
  /** Programs that were waiting for a restart, or for a start or restart asked for, when the old daemon died: start them. */
  resume: string[];
  /** Adopted runs a restart was asked for and not finished: restart them. */
  restart: string[];
  adopted: string[];
  ended: string[];
  /** Programs that had finished (EXITED, FATAL, STOPPED) and were restored as they were. */
  finished: string[];
}

/** The programs to start at daemon start: autostart ones the saved state does not decide, and those it resumes. */
export function startsAfterRestore(programs: Iterable<Program>, { restored, resume }: RestoreOutcome): string[] {
  return [...programs].filter((p) => (p.remoteHost === undefined && p.config.autostart && !restored.has(p.name)) || resume.includes(p.name)).map((p) => p.name);
}

/**
 * Daemon start after the restore: finishes the restarts the previous daemon was killed in the
 * middle of (their old run still alive), then starts what startsAfterRestore picks, without
 * waiting for them; with dependencies, dependents wait for their conditions in the background.
 */
export async function startAfterRestore(
  programs: readonly Program[],
  outcome: RestoreOutcome,
  calls: { restart: (name: string) => Promise<unknown>; startAll: (names: string[]) => Promise<unknown> },
): Promise<void> {
  const autostart = startsAfterRestore(programs, outcome);
  for (const name of outcome.restart) void calls.restart(name).catch(() => undefined);
  if (autostart.length === 0) return;
  const starting = calls.startAll(autostart);
  // Independent programs spawn one per turn of the event loop (bulk.ts).
  const byName = new Map(programs.map((p) => [p.name, p]));
  if (autostart.some((name) => Object.keys(byName.get(name)?.config.dependsOn ?? {}).length > 0)) void starting.catch(() => undefined);
  else await starting;
}

export interface RestoreContext {
  /** This boot's id: a run saved under another boot is never adopted nor signalled. */
  bootId: string;
  journal: EventJournal;
  /** Re-creates an ad-hoc program of the previous daemon (see PersistenceOptions). */
  addAdhoc: (config: ProgramConfig, input: Record<string, unknown>) => Program;
  readAdhoc?: (name: string, input: Record<string, unknown>) => ProgramConfig;
  /** Watches an adopted run for its end (adopted-exit-watcher.ts). */
  watchExit: (run: Run, onGone: () => void) => void;
  /** A problem with the saved state, for the journal and the daemon's log. */
  report: (problem: string) => void;
}

/** Restores every saved program: what was adopted, ended, finished, and what to start or restart now. */
export function restoreSavedState(saved: SavedState, programs: ReadonlyMap<string, Program>, context: RestoreContext): RestoreOutcome {
  const outcome: RestoreOutcome = { restored: new Set(), resume: [], restart: [], adopted: [], ended: [], finished: [] };
  const sameBoot = saved.bootId !== "" && saved.bootId === context.bootId;
  for (const [name, record] of Object.entries(saved.programs)) {
    const run = record.run;
    const adhoc = record.adhocProgram !== undefined ? readAdhocProgram(context, name, record.adhocProgram) : undefined;
    if (record.adhocConfig !== undefined && adhoc === undefined) {
      context.report(
        `ad-hoc program "${name}" of the previous daemon not re-created: saved by an older corral (adhocConfig)${run && run.exitedAt === undefined ? "; its run is stopped" : ""}`,
      );
      if (run && run.exitedAt === undefined && sameBoot) stopOrphan(context.journal, name, run.pid, run.pidStartTicks);
      continue;
    }
    if (adhoc !== undefined && record.adhocProgram !== undefined) {
      const problem = programs.has(name) ? "the config file now has a program of that name, which wins" : adhoc.problem;
      if (problem === undefined && adhoc.config !== undefined) {
        context.addAdhoc(adhoc.config, record.adhocProgram);
        // Autostart never applies to ad-hoc programs (CreateProgram starts them or not): they
        // come back as they were, and run again after an orderly shutdown if they ran before it.
        if (record.stoppedByShutdown && record.desired === "running") outcome.resume.push(name);
        else outcome.restored.add(name);
      } else {
        context.report(
          `ad-hoc program "${name}" of the previous daemon not re-created: ${problem}${run && run.exitedAt === undefined ? "; its run is stopped" : ""}`,
        );
        if (run && run.exitedAt === undefined && sameBoot) stopOrphan(context.journal, name, run.pid, run.pidStartTicks);
        continue;
      }
    }
    const program = programs.get(name);
    if (!program) {
      if (run && run.exitedAt === undefined && sameBoot) stopOrphan(context.journal, name, run.pid, run.pidStartTicks);
      continue;
    }
    if (program.remoteHost !== undefined) {
      // Another host's program: a run saved for it here is neither adopted nor stopped.
      if (run)
        context.journal.append("", 0, {
          kind: "server",
          message: `program "${name}" runs on host ${program.remoteHost}: its saved run (pid ${run.pid}) was neither adopted nor stopped`,
        });
      outcome.restored.add(name);
      continue;
    }
    const desired = record.desired;
    // A start or restart was asked for and saved, and the old daemon died before it spawned.
    const startAsked = record.startPending === true && record.desired !== "stopped";
    const resumeRetry = (record.desired === "running" && record.retryPending) || startAsked;
    const since = record.stateSince ? new Date(record.stateSince) : undefined;
    if (run?.exitedAt !== undefined && startAsked) {
      // E.g. a spawn the old daemon logged but never forked (spawn-recovery.ts): shown as it was, then made.
      const state = isFinished(record.state) ? record.state : "EXITED";
      program.restore({ kind: "finished", state, reason: record.stateReason, since, run: endedRunOf(run), restarts: record.restarts }, desired);
      outcome.restored.add(name);
      outcome.finished.push(name);
      outcome.resume.push(name);
      continue;
    }
    if (run?.exitedAt !== undefined && !resumeRetry) {
      // Finished before the old daemon died (or was being stopped): it stays as it was.
      const state = record.desired === "stopped" ? "STOPPED" : isFinished(record.state) ? record.state : undefined;
      if (state) {
        const reason = record.state === state ? record.stateReason : "stopped by request (before the daemon restarted)";
        program.restore({ kind: "finished", state, reason, since, run: endedRunOf(run), restarts: record.restarts }, desired);
        outcome.restored.add(name);
        outcome.finished.push(name);
        continue;
      }
    }
    if (run && run.exitedAt === undefined && record.upAtShutdown && desired !== "stopped" && !(sameBoot && isSameProcess(run.pid, run.pidStartTicks))) {
      // Ended by the old daemon's own shutdown, which was cut short: a shutdown is not the user's
      // stop, so the program runs again as after an orderly one (its word, else autostart).
      const ended = { ...restoredRunOf(run), exitedAt: new Date(), exitStatusUnknown: "stopped by the previous daemon's shutdown, which did not finish" };
      program.restore({ kind: "finished", state: "STOPPED", reason: "stopped by the daemon's shutdown", run: ended, restarts: record.restarts }, desired);
      outcome.finished.push(name);
      if (desired === "running") outcome.resume.push(name);
      continue;
    }
    if (run && run.exitedAt === undefined) {
      outcome.restored.add(name);
      const restored = restoredRunOf(run);
      if (sameBoot && isSameProcess(run.pid, run.pidStartTicks)) {
        program.restore({ kind: "adopted", run: restored, restarts: record.restarts, watchExit: context.watchExit }, desired);
        outcome.adopted.push(name);
        // It was being stopped when the old daemon died: finish the user's stop (or restart).
        if (record.desired === "stopped") program.stop().catch(() => undefined);
        else if (startAsked) outcome.restart.push(name);
      } else {
        const why = sameBoot ? whyNotAdoptable(run.pid, run.pidStartTicks) : "the host rebooted since the run was saved";
        if (record.desired === "stopped") {
          // Ended while being stopped by the user: stopped, not restarted by its policy.
          const ended = { ...restored, exitedAt: new Date(), exitStatusUnknown: why };
          program.restore(
            { kind: "finished", state: "STOPPED", reason: `stopped by request (exit status unknown: ${why})`, run: ended, restarts: record.restarts },
            "stopped",
          );
          outcome.finished.push(name);
        } else if (startAsked) {
          // Ended by the restart's stop (or on its own) while nobody watched: the start asked for follows.
          const ended = { ...restored, exitedAt: new Date(), exitStatusUnknown: why };
          const reason = `run ${run.runId} ended while the daemon was down (${why}); starting it as asked`;
          program.restore({ kind: "finished", state: "EXITED", reason, run: ended, restarts: record.restarts }, desired);
          outcome.finished.push(name);
          outcome.resume.push(name);
        } else {
          program.restore({ kind: "ended", run: restored, restarts: record.restarts, why }, desired);
          outcome.ended.push(name);
        }
      }
    } else if (record.desired === "stopped") {
      outcome.restored.add(name);
      program.restore({ kind: "finished", state: "STOPPED", reason: "stopped by request (before the daemon restarted)", restarts: record.restarts }, "stopped");
    } else {
      program.restore({ kind: "intent" }, desired);
      // The daemon's shutdown is not the user's stop: what the user wanted running runs again
      // (autostart decides for programs nobody started or stopped).
      if (resumeRetry || (record.stoppedByShutdown && desired === "running")) outcome.resume.push(name);
    }
  }
  if (outcome.adopted.length + outcome.ended.length + outcome.finished.length > 0) {
    context.journal.append("", 0, {
      kind: "server",
      message: `restored state of the previous daemon (pid ${saved.daemonPid}): re-adopted ${outcome.adopted.length} run(s), ${outcome.ended.length} run(s) ended or lost while it was down, ${outcome.finished.length} program(s) kept as they were (exited, fatal or stopped)`,
    });
  }
  return outcome;
}

/** A saved live run as Program.restore() takes it. */
function restoredRunOf(run: SavedRun): RestoredRun {
  return {
    runId: run.runId,
    pid: run.pid,
    pidStartTicks: run.pidStartTicks,
    startedAt: new Date(run.startedAt),
    logStart: { stdout: run.stdoutStart, stderr: run.stderrStart },
  };
}

/** A saved ad-hoc program, validated as CreateProgram's was; or why it cannot be used (hand-edited, another version). */
function readAdhocProgram(context: RestoreContext, name: string, input: Record<string, unknown>): { config?: ProgramConfig; problem?: string } {
  if (!context.readAdhoc) return { problem: "this daemon has no config reader to validate it" };
  try {
    return { config: context.readAdhoc(name, input) };
  } catch (error) {
    return { problem: `its saved settings are not valid: ${error instanceof Error ? error.message.split("\n").join("; ") : String(error)}` };
  }
}

/** A run whose program is gone from the config: nobody would ever stop it, so stop it now. */
function stopOrphan(journal: EventJournal, name: string, pid: number, startTicks: number): void {
  if (!isSameProcess(pid, startTicks)) return;
  journal.append("", 0, {
    kind: "server",
    message: `program "${name}" is no longer configured: stopping its run left by the previous daemon (process group ${pid})`,
  });
  void stopProcessGroup({ pgid: pid, leaderStartTicks: startTicks }, { signal: "SIGTERM", timeoutMs: ORPHAN_STOP_TIMEOUT_MS }).then(({ survivors }) => {
    if (survivors.length > 0)
      journal.append("", 0, {
        kind: "server",
        message: `program "${name}": ${survivors.length} process(es) of group ${pid} survived SIGKILL: ${survivors.join(", ")}`,
      });
  });
}

function whyNotAdoptable(pid: number, startTicks: number): string {
  const stat = readStat(pid);
  if (stat && stat.state !== "Z" && stat.startTicks !== startTicks) {
    return `run lost: pid ${pid} now belongs to another process (start time ${stat.startTicks} ticks, saved ${startTicks}), which was not adopted`;
  }
  return "ended while the daemon was down (not a child of this daemon)";
}
