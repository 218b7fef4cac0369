// Persistence of the process core and re-adoption after a daemon restart: keeps the state store
// (state-store.ts) and the event journal file (events/log-file.ts) current, and on startup takes
// over the runs the previous daemon left: alive with the same pid and start ticks -> adopted,
// RUNNING with the same run id; ended, or pid now another process -> exited (status unknown)
// and the restart policy applies. Programs the user stopped stay stopped; EXITED and FATAL ones
// come back as they were; ad-hoc programs are re-created from their saved config; runs spawned
// after the last save come from the spawn log (spawn-recovery.ts).
import { dirname, join } from "node:path";
import { LogFile } from "../events/log-file.js";
import { SpawnLog } from "../store/spawn-log.js";
import { mergeSpawnLog } from "./spawn-recovery.js";
import { journalCodec, type EventJournal, type JournalEvent } from "./journal.js";
import { currentBootId, StateStore, type DesiredState, type SavedProgram, type SavedRun, type SavedState } from "../store/state-store.js";
import { stopProcessGroup } from "../os/group-stop.js";
import { isSameProcess, readStat } from "../os/proc.js";
import type { EndedRun, Program, RestoredRun, Run } from "./program.js";
import type { ProgramConfig } from "./types.js";

/**
 * How often adopted runs without a cgroup are checked for exit. An adopted process is not our
 * child, so there is no 'exit' event and no waitpid; Node 20 has no pidfd and inotify does not
 * work on /proc, so without a cgroup polling /proc/PID/stat is the way. It runs only while such
 * runs exist.
 */
const ADOPTED_POLL_MS = 250;
/**
 * A run with a cgroup is seen ending through cgroup.events (inotify, no polling) the moment its
 * last process exits. Only a leader that exits while other processes of the run live on changes
 * nothing there: that is checked this often (one stat per such run).
 */
const ADOPTED_LEADER_CHECK_MS = 5_000;
/** A run left by a program that is no longer configured gets this long after SIGTERM. */
const ORPHAN_STOP_TIMEOUT_MS = 5_000;

/** Watches adopted runs (pid + start ticks; cgroup.events where the run has a cgroup) with one timer per rate. */
class AdoptedExitWatcher {
  private readonly polled = new Map<Run, () => void>();
  private readonly contained = new Map<Run, { onGone: () => void; unwatch: () => void }>();
  private pollTimer?: NodeJS.Timeout;
  private leaderTimer?: NodeJS.Timeout;

  watch(run: Run, onGone: () => void): void {
    if (!run.cgroup) {
      this.polled.set(run, onGone);
      this.pollTimer ??= setInterval(() => this.check(), ADOPTED_POLL_MS);
      return;
    }
    const entry: { onGone: () => void; unwatch: () => void } = { onGone, unwatch: () => undefined };
    this.contained.set(run, entry);
    entry.unwatch = run.cgroup.watchEmpty(() => this.gone(run));
    if (this.contained.has(run)) this.leaderTimer ??= setInterval(() => this.checkLeaders(), ADOPTED_LEADER_CHECK_MS);
  }

  check(): void {
    for (const [run, onGone] of this.polled) {
      if (isSameProcess(run.pid, run.pidStartTicks)) continue;
      this.polled.delete(run);
      onGone();
    }
    if (this.polled.size === 0) this.stopPolling();
  }

  private checkLeaders(): void {
    for (const run of [...this.contained.keys()]) if (!isSameProcess(run.pid, run.pidStartTicks)) this.gone(run);
  }

  private gone(run: Run): void {
    const entry = this.contained.get(run);
    if (!entry) return;
    this.contained.delete(run);
    entry.unwatch();
    if (this.contained.size === 0 && this.leaderTimer) {
      clearInterval(this.leaderTimer);
      this.leaderTimer = undefined;
    }
    entry.onGone();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  stop(): void {
    this.stopPolling();
    if (this.leaderTimer) clearInterval(this.leaderTimer);
    this.leaderTimer = undefined;
    for (const entry of this.contained.values()) entry.unwatch();
    this.contained.clear();
  }
}

export interface PersistenceOptions {
  /** The state directory (<home>/state). */
  stateDir: string;
  journal: EventJournal;
  programs: () => Iterable<Program>;
  /** Re-creates an ad-hoc program of the previous daemon (adds it to the set, marked ad hoc, keeping its input). */
  addAdhoc: (config: ProgramConfig, input: Record<string, unknown>) => Program;
  /**
   * Validates a saved ad-hoc program's settings as CreateProgram did (the config schema, passed
   * in: the core reads no config); throws with the problems. Absent: ad-hoc programs are not re-created.
   */
  readAdhoc?: (name: string, input: Record<string, unknown>) => ProgramConfig;
}

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

export class Persistence {
  private readonly store: StateStore;
  private readonly journalFile: LogFile<JournalEvent>;
  /** Appended at each spawn, emptied at each save: see store/spawn-log.ts. */
  readonly spawnLog: SpawnLog;
  private readonly exitWatcher = new AdoptedExitWatcher();
  private saved?: SavedState;
  private frozenDesired?: Map<string, DesiredState | undefined>;
  /** Programs that were up when shutdown began: what the daemon stops now, the next one starts. */
  private upAtShutdown?: Set<string>;
  private readonly bootId = currentBootId();
  /** What went wrong reading the saved state (also in the journal), for the daemon's log. */
  readonly problems: string[] = [];

  constructor(private readonly options: PersistenceOptions) {
    const { journal } = options;
    this.journalFile = new LogFile(join(options.stateDir, "events.jsonl"), journalCodec, journal.limits);
    const { items: events, skipped } = this.journalFile.load();
    journal.restore(events);
    journal.setSink((event) => this.journalFile.append(event, () => journal.recent()));
    if (skipped > 0) this.report(`event journal: ${skipped} damaged line(s) skipped (a torn write from a crash, or corruption)`);

    this.spawnLog = new SpawnLog(join(options.stateDir, "spawns.jsonl"), this.bootId);
    this.store = new StateStore(
      join(options.stateDir, "state.json"),
      () => this.snapshot(),
      (message) => this.options.journal.append("", 0, { kind: "server", message }),
      () => this.spawnLog.clear(),
    );
    const loaded = this.store.load();
    if (loaded.problem) this.report(loaded.problem);
    // Runs spawned after the old daemon's last save are in its spawn log (spawn-recovery.ts).
    const merged = mergeSpawnLog(loaded.state, this.spawnLog.load(), this.bootId, dirname(options.stateDir));
    for (const note of merged.notes) this.options.journal.append("", 0, { kind: "server", message: note });
    this.saved = merged.state;
  }

  private report(problem: string): void {
    this.problems.push(problem);
    this.options.journal.append("", 0, { kind: "server", message: problem });
  }

  /** Something changed: save soon (coalesced per event-loop turn). */
  changed(): void {
    this.store.saveSoon();
  }

  /** Saves before returning: the change must survive a SIGKILL right after the call answers. */
  saveNow(): void {
    if (!this.frozenDesired) this.store.saveNow();
  }

  private snapshot(): SavedState {
    const programs: Record<string, SavedProgram> = {};
    for (const program of this.options.programs()) {
      const run = program.run;
      const desired = this.frozenDesired ? this.frozenDesired.get(program.name) : program.desired;
      const live = run && !run.exitedAt && run.pid > 0;
      const common = {
        desired,
        restarts: program.restarts,
        retryPending: program.retryPending,
        startPending: program.startPending || undefined,
        adhocProgram: program.adhocInput,
      };
      if (this.upAtShutdown?.has(program.name) && !live) {
        // Stopped by the daemon's own shutdown, not by the user: saved as never run, so autostart
        // (or a pending retry) decides again under the next daemon, as before a first start.
        programs[program.name] = { ...common, state: "STOPPED", stateReason: "stopped by the daemon's shutdown", stoppedByShutdown: true };
        continue;
      }
      programs[program.name] = {
        ...common,
        state: program.state,
        stateReason: program.stateReason,
        stateSince: program.stateSince.toISOString(),
        run: run ? savedRunOf(run) : undefined,
      };
    }
    return { version: 1, savedAt: new Date().toISOString(), bootId: this.bootId, daemonPid: process.pid, programs };
  }

  /**
   * Applies the saved state to the configured programs (call once, before autostart): adopts
   * live runs, marks ended ones exited (restart policy applies) and stops runs of programs that
   * are no longer configured.
   */
  restore(programs: ReadonlyMap<string, Program>): RestoreOutcome {
    const outcome: RestoreOutcome = { restored: new Set(), resume: [], restart: [], adopted: [], ended: [], finished: [] };
    const saved = this.saved;
    this.saved = undefined;
    if (!saved) return outcome;
    const sameBoot = saved.bootId !== "" && saved.bootId === this.bootId;
    for (const [name, record] of Object.entries(saved.programs)) {
      const run = record.run;
      const adhoc = record.adhocProgram !== undefined ? this.readAdhocProgram(name, record.adhocProgram) : undefined;
      if (record.adhocConfig !== undefined && adhoc === undefined) {
        this.report(
          `ad-hoc program "${name}" of the previous daemon not re-created: saved by an older corral (adhocConfig)${run && run.exitedAt === undefined ? "; its run is stopped" : ""}`,
        );
        if (run && run.exitedAt === undefined && sameBoot) this.stopOrphan(name, run.pid, run.pidStartTicks);
        continue;
      }
      if (adhoc !== undefined && record.adhocProgram !== undefined) {
        const problem = programs.has(name) ? "the config file now has a program of that name, which wins" : adhoc.problem;
        if (problem === undefined && adhoc.config !== undefined) {
          this.options.addAdhoc(adhoc.config, record.adhocProgram);
          // Autostart never applies to ad-hoc programs (CreateProgram starts them or not): they
          // come back as they were, and run again after an orderly shutdown if they ran before it.
          if (record.stoppedByShutdown && record.desired === "running") outcome.resume.push(name);
          else outcome.restored.add(name);
        } else {
          this.report(
            `ad-hoc program "${name}" of the previous daemon not re-created: ${problem}${run && run.exitedAt === undefined ? "; its run is stopped" : ""}`,
          );
          if (run && run.exitedAt === undefined && sameBoot) this.stopOrphan(name, run.pid, run.pidStartTicks);
          continue;
        }
      }
      const program = programs.get(name);
      if (!program) {
        if (run && run.exitedAt === undefined && sameBoot) this.stopOrphan(name, run.pid, run.pidStartTicks);
        continue;
      }
      if (program.remoteHost !== undefined) {
        // Another host's program: a run saved for it here is neither adopted nor stopped.
        if (run)
          this.options.journal.append("", 0, {
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
      if (run && run.exitedAt === undefined) {
        outcome.restored.add(name);
        const restored = {
          runId: run.runId,
          pid: run.pid,
          pidStartTicks: run.pidStartTicks,
          startedAt: new Date(run.startedAt),
          logStart: { stdout: run.stdoutStart, stderr: run.stderrStart },
        };
        if (sameBoot && isSameProcess(run.pid, run.pidStartTicks)) {
          program.restore({ kind: "adopted", run: restored, restarts: record.restarts, watchExit: (r, onGone) => this.exitWatcher.watch(r, onGone) }, desired);
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
        program.restore(
          { kind: "finished", state: "STOPPED", reason: "stopped by request (before the daemon restarted)", restarts: record.restarts },
          "stopped",
        );
      } else {
        program.restore({ kind: "intent" }, desired);
        if (resumeRetry) outcome.resume.push(name);
      }
    }
    if (outcome.adopted.length + outcome.ended.length + outcome.finished.length > 0) {
      this.options.journal.append("", 0, {
        kind: "server",
        message: `restored state of the previous daemon (pid ${saved.daemonPid}): re-adopted ${outcome.adopted.length} run(s), ${outcome.ended.length} run(s) ended or lost while it was down, ${outcome.finished.length} program(s) kept as they were (exited, fatal or stopped)`,
      });
    }
    this.store.saveSoon();
    return outcome;
  }

  /** A saved ad-hoc program, validated as CreateProgram's was; or why it cannot be used (hand-edited, another version). */
  private readAdhocProgram(name: string, input: Record<string, unknown>): { config?: ProgramConfig; problem?: string } {
    if (!this.options.readAdhoc) return { problem: "this daemon has no config reader to validate it" };
    try {
      return { config: this.options.readAdhoc(name, input) };
    } catch (error) {
      return { problem: `its saved settings are not valid: ${error instanceof Error ? error.message.split("\n").join("; ") : String(error)}` };
    }
  }

  /** A run whose program is gone from the config: nobody would ever stop it, so stop it now. */
  private stopOrphan(name: string, pid: number, startTicks: number): void {
    if (!isSameProcess(pid, startTicks)) return;
    const journal = this.options.journal;
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

  /** Shutdown begins: the stops that follow are the daemon's, not the user's; keep the user's word. */
  beginShutdown(): void {
    this.frozenDesired = new Map([...this.options.programs()].map((p) => [p.name, p.desired]));
    this.upAtShutdown = new Set([...this.options.programs()].filter((p) => !isFinished(p.state) || p.retryPending).map((p) => p.name));
  }

  /** Saves a last time (with the runs left running, for --keep-processes) and stops saving. */
  finish(): void {
    this.exitWatcher.stop();
    this.store.freeze();
    this.spawnLog.close();
    this.journalFile.close();
    this.options.journal.setSink(undefined);
  }
}

function isFinished(state: string): state is "EXITED" | "FATAL" | "STOPPED" {
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

function endedRunOf(run: SavedRun): RestoredRun & EndedRun {
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

function whyNotAdoptable(pid: number, startTicks: number): string {
  const stat = readStat(pid);
  if (stat && stat.state !== "Z" && stat.startTicks !== startTicks) {
    return `run lost: pid ${pid} now belongs to another process (start time ${stat.startTicks} ticks, saved ${startTicks}), which was not adopted`;
  }
  return "ended while the daemon was down (not a child of this daemon)";
}
