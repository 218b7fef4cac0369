// Merges the spawn log a killed daemon left (store/spawn-log.ts) into its last saved state, so
// runs spawned after that save are adopted like the others instead of orphaned. A run whose pid
// was never written (killed between fork and log) is looked for by its CORRAL_RUN_ID marker.
import type { SavedProgram, SavedRun, SavedState } from "../store/state-store.js";
import type { SpawnDone, SpawnIntent, SpawnLogEntry } from "../store/spawn-log.js";
import { findByEnvironment } from "../os/environ.js";
import { readStat, type ProcStat } from "../os/proc.js";

/**
 * Set in every run's environment to the daemon's home: run ids and program names repeat across
 * homes (several daemons of one user), so only this tells our runs from another daemon's.
 */
export const HOME_MARKER = "CORRAL_DAEMON_HOME";

/** Of the processes carrying a run's marker, its leader: the run is its own process group (its children inherit the marker too). */
export function runLeaderOf(pids: number[]): ProcStat | undefined {
  return pids.map(readStat).find((stat): stat is ProcStat => stat !== undefined && stat.pgrp === stat.pid);
}

export interface MergeResult {
  state?: SavedState;
  /** What was recovered from the log, for the journal. */
  notes: string[];
}

export function mergeSpawnLog(saved: SavedState | undefined, entries: SpawnLogEntry[], bootId: string, home: string): MergeResult {
  const notes: string[] = [];
  const intents = entries.filter((e): e is SpawnIntent => e.kind === "intent" && bootId !== "" && e.bootId === bootId);
  if (intents.length === 0) return { state: saved, notes };
  let state = saved;
  if (!state || state.bootId !== bootId) {
    // The log is of this boot, the state (if any) of an earlier one: its runs are gone for sure.
    state = { version: 1, savedAt: new Date().toISOString(), bootId, daemonPid: 0, programs: { ...(state?.programs ?? {}) } };
    for (const [name, record] of Object.entries(state.programs)) {
      if (record.run && record.run.exitedAt === undefined) {
        state.programs[name] = {
          ...record,
          run: { ...record.run, exitedAt: new Date().toISOString(), exitStatusUnknown: "the host rebooted since the run was saved" },
        };
      }
    }
  }
  const done = new Map(entries.filter((e): e is SpawnDone => e.kind === "spawned").map((e) => [`${e.program}\0${e.runId}`, e]));
  // The newest spawn of each program is its current run.
  const latest = new Map<string, SpawnIntent>();
  for (const intent of intents) {
    const known = latest.get(intent.program);
    if (!known || intent.runId > known.runId) latest.set(intent.program, intent);
  }
  for (const [name, intent] of latest) {
    const record: SavedProgram | undefined = state.programs[name];
    if (record?.run && record.run.runId >= intent.runId) continue; // the save came after this spawn
    let pid = 0;
    let pidStartTicks = 0;
    const logged = done.get(`${name}\0${intent.runId}`);
    if (logged) {
      ({ pid, pidStartTicks } = logged);
      notes.push(`program "${name}": run ${intent.runId} (pid ${pid}) was spawned after the last state save; recovered from the spawn log`);
    } else {
      const stat = runLeaderOf(findByEnvironment({ [HOME_MARKER]: home, CORRAL_PROGRAM: name, CORRAL_RUN_ID: String(intent.runId) }));
      if (stat) {
        pid = stat.pid;
        pidStartTicks = stat.startTicks;
        notes.push(`program "${name}": the daemon died between the fork of run ${intent.runId} and logging its pid; found pid ${pid} by its CORRAL_RUN_ID`);
      }
    }
    const run: SavedRun = { runId: intent.runId, pid, pidStartTicks, startedAt: intent.time, stdoutStart: intent.stdoutStart, stderrStart: intent.stderrStart };
    const unknown = "the daemon died while spawning it, and no process of the run was found";
    state.programs[name] = {
      ...(record ?? { restarts: 0 }),
      desired: "running",
      state: pid > 0 ? "STARTING" : "EXITED",
      stateReason: pid > 0 ? `run ${intent.runId} spawned just before the daemon died` : `run ${intent.runId}: exit status unknown: ${unknown}`,
      retryPending: false,
      // Never forked (or gone at once): the spawn asked for is made again (adopt.ts). Forked: done.
      startPending: pid === 0,
      run: pid > 0 ? run : { ...run, exitedAt: new Date().toISOString(), exitStatusUnknown: unknown },
    };
    if (pid === 0) notes.push(`program "${name}": ${unknown} (run ${intent.runId})`);
  }
  return { state, notes };
}
