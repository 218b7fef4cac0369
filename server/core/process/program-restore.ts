// Program.restore(), the one sanctioned way state changes outside transition(): what a previous
// daemon left of a program (adopt.ts reads it) brought back once, before anything started it. An
// adopted run becomes RUNNING again; a run found ended goes through the restart policy as an exit.
import { RunCgroup } from "../os/cgroup.js";
import type { DesiredState, ProgramCore } from "./program-core.js";
import { restoredRun, type EndedRun, type RestoredRun, type Run } from "./run.js";
import type { RunExits } from "./run-exit.js";
import type { RunStarter } from "./run-start.js";

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

/**
 * The program was in the saved state all along (only the daemon changed), so the transition table
 * does not apply; the change is published from STOPPED (as created) to the restored state, so a
 * watcher sees every state a program is in. An adopted run keeps its run id and uptime; it has no
 * child handle: watchExit calls onGone when the process is gone, its exit status then unknown.
 */
export function restoreProgram(core: ProgramCore, parts: { starter: RunStarter; exits: RunExits }, saved: Restoration, desired?: DesiredState): void {
  if (core.state !== "STOPPED" || core.run) throw new Error(`bug: ${core.name} restored twice or after a start`);
  if (saved.kind === "intent") {
    if (desired) core.restoreDesired(desired);
    return;
  }
  if (saved.kind === "finished") {
    if (desired) core.restoreDesired(desired);
    if (saved.run) core.setRun(restoredRun(saved.run, Promise.resolve()));
    core.restoreRestarts(saved.restarts);
    core.restoreState(saved.state, saved.reason, saved.since);
    return;
  }
  // Its state is UNKNOWN until its run is checked (adopted: alive; ended: exited).
  core.restoreDesired(desired ?? "running");
  core.restoreRestarts(saved.restarts);
  core.restoreState("UNKNOWN", `run ${saved.run.runId} (pid ${saved.run.pid}) of the previous daemon`);
  if (saved.kind === "adopted") {
    adopt(core, parts, saved.run, saved.watchExit);
    return;
  }
  const run = restoredRun(saved.run, Promise.resolve());
  run.exitedAt = new Date();
  run.exitStatusUnknown = saved.why;
  core.setRun(run);
  parts.exits.onExit(run);
}

/** A live run of the previous daemon taken over: RUNNING again, its probes restarted, its exit watched. */
function adopt(
  core: ProgramCore,
  { starter, exits }: { starter: RunStarter; exits: RunExits },
  saved: RestoredRun,
  watchExit: (run: Run, onGone: () => void) => void,
): void {
  let markExited!: () => void;
  const cgroup = core.deps.cgroups ? RunCgroup.existing(core.deps.cgroups, saved.runId) : undefined;
  const run: Run = { ...restoredRun(saved, new Promise<void>((resolve) => (markExited = resolve))), adopted: true, cgroup };
  core.setRun(run);
  starter.watchLogs();
  starter.startReadiness(run, saved.logStart);
  starter.becomeRunning(run, `re-adopted pid ${run.pid} (run ${run.runId}) after a daemon restart`);
  watchExit(run, () => {
    if (run.exitedAt) return;
    run.exitedAt = new Date();
    run.exitStatusUnknown = "a re-adopted run is not a child of this daemon";
    exits.onExit(run);
    markExited();
  });
}
