// Persistence of the process core: keeps the state store (state-store.ts, saved-state.ts) and the
// event journal file (events/log-file.ts) current, freezes the user's word while the daemon shuts
// down, and on startup hands what the previous daemon left to adopt.ts (re-adoption of its runs),
// after merging in the runs spawned after its last save (spawn log, spawn-recovery.ts).
import { dirname, join } from "node:path";
import { LogFile } from "../events/log-file.js";
import { SpawnLog } from "../store/spawn-log.js";
import { currentBootId, StateStore, type DesiredState, type SavedState } from "../store/state-store.js";
import { restoreSavedState, type RestoreOutcome } from "./adopt.js";
import { AdoptedExitWatcher } from "./adopted-exit-watcher.js";
import { journalCodec, type EventJournal, type JournalEvent } from "./journal.js";
import type { Program } from "./program.js";
import type { Run } from "./run.js";
import { isFinished, SavedStateText } from "./saved-state.js";
import { mergeSpawnLog } from "./spawn-recovery.js";
import type { ProgramConfig } from "./types.js";

export type { RestoreOutcome } from "./adopt.js";

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
    // Each save reuses the records of the programs that did not change (saved-state.ts).
    const text = new SavedStateText();
    this.store = new StateStore(
      join(options.stateDir, "state.json"),
      () => text.of(this.options.programs(), { bootId: this.bootId, frozenDesired: this.frozenDesired, upAtShutdown: this.upAtShutdown }),
      (message) => this.options.journal.append("", 0, { kind: "server", message }),
      (mark) => this.spawnLog.clear(mark),
      // A run the spawner is still forking is not in a snapshot (no pid yet): its intent stays logged.
      () => ([...this.options.programs()].some((program) => program.run?.spawning) ? -1 : this.spawnLog.appended),
    );
    const loaded = this.store.load();
    if (loaded.problem) this.report(loaded.problem);
    // Runs spawned after the old daemon's last save are in its spawn log (spawn-recovery.ts).
    const merged = mergeSpawnLog(loaded.state, this.spawnLog.load(), this.bootId, dirname(options.stateDir));
    for (const note of merged.notes) this.options.journal.append("", 0, { kind: "server", message: note });
    this.saved = merged.state;
  }

  /**
   * A start or restart is saved before anything is spawned or signalled: a daemon killed from
   * here on leaves the next one to start (or finish restarting) these programs (adopt.ts).
   */
  saveStartIntent(programs: readonly Program[]): void {
    // A program already up stays as it is (start refuses it, a bulk start leaves it alone).
    const starting = programs.filter((program) => program.remoteHost === undefined && !program.removing && !program.isActive());
    for (const program of starting) program.noteIntent("start");
    if (starting.length > 0) this.saveNow();
  }

  /**
   * A user's stop is saved before the first signal: a daemon killed from here on must not
   * leave the next one adopting (or restarting) the runs as if nobody had asked.
   */
  saveStopIntent(programs: readonly Program[]): void {
    for (const program of programs) program.noteIntent("stop");
    if (programs.length > 0) this.saveNow();
  }

  private report(problem: string): void {
    this.problems.push(problem);
    this.options.journal.append("", 0, { kind: "server", message: problem });
  }

  /** Something changed: save soon (coalesced per event-loop turn). */
  changed(): void {
    this.store.saveSoon();
  }

  /** Background saves wait until the release (a bulk start issuing spawns; StateStore.hold). */
  holdSaves(): () => void {
    return this.store.hold();
  }

  /** Saves before returning: the change must survive a SIGKILL right after the call answers. */
  saveNow(): void {
    if (!this.frozenDesired) this.store.saveNow();
  }

  /** saveNow without holding the event loop (StateStore.saveDurably): resolves once it is on disk. */
  saveDurably(): Promise<void> {
    return this.frozenDesired ? Promise.resolve() : this.store.saveDurably();
  }

  /**
   * Applies the saved state to the configured programs (call once, before autostart): adopts
   * live runs, marks ended ones exited (restart policy applies) and stops runs of programs that
   * are no longer configured (adopt.ts).
   */
  restore(programs: ReadonlyMap<string, Program>): RestoreOutcome {
    const saved = this.saved;
    this.saved = undefined;
    if (!saved) return { restored: new Set(), resume: [], restart: [], adopted: [], ended: [], finished: [] };
    const outcome = restoreSavedState(saved, programs, {
      bootId: this.bootId,
      journal: this.options.journal,
      addAdhoc: this.options.addAdhoc,
      readAdhoc: this.options.readAdhoc,
      watchExit: (run, onGone) => this.watchExit(run, onGone),
      report: (problem) => this.report(problem),
    });
    this.store.saveSoon();
    return outcome;
  }

  /** Watches a run that is no child of this daemon's (adopted, or its spawner died) for its end. */
  watchExit(run: Run, onGone: () => void): void {
    this.exitWatcher.watch(run, onGone);
  }

  /** Shutdown begins: the stops that follow are the daemon's, not the user's; keep the user's word. */
  beginShutdown(stops: (program: Program) => boolean): void {
    this.frozenDesired = new Map([...this.options.programs()].map((p) => [p.name, p.desired]));
    // Only what the shutdown stops: a run it leaves (keep_processes, detach) that ends meanwhile is an exit of its own.
    this.upAtShutdown = new Set([...this.options.programs()].filter((p) => stops(p) && (!isFinished(p.state) || p.retryPending)).map((p) => p.name));
    // Saved before the first stop signal: a daemon killed in the middle of its own shutdown leaves
    // the next one knowing which runs that shutdown ended, so they run again (adopt.ts).
    this.store.saveNow();
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
