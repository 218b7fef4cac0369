// One run of a program: what the daemon knows of the process it spawned (or adopted), how a run
// a previous daemon left is brought back, and how its exit reads in a state's reason.
import type { ChildProcess } from "node:child_process";
import type { SpawnedChild } from "../os/spawner.js";
import type { ResourceExhaustedError } from "../errors.js";
import type { RunCgroup } from "../os/cgroup.js";
import type { RunSnapshot } from "./types.js";

export interface Run {
  runId: number;
  pid: number;
  pidStartTicks: number;
  startedAt: Date;
  startedMono: number;
  child?: ChildProcess | SpawnedChild;
  /** Set while the spawner (os/spawner.ts) has not yet said the pid: a stop waits for it. */
  spawning?: Promise<void>;
  exitedAt?: Date;
  exitCode?: number;
  exitSignal?: string;
  spawnError?: string;
  exited: Promise<void>;
  /** Why the daemon killed a run that was up (a failed liveness probe); said in its exit reason. */
  killedBecause?: string;
  /** A stop asked for (by a user, a restart, a config change or shutdown) signalled this run: its exit is expected (run-stop.ts). */
  stopCause?: "stop" | "restart" | "config" | "shutdown";
  /** The limit that ended the run (OOM-killed under limits.memory, or restarted over max_memory): said in its exit. */
  limitHit?: "limits.memory" | "max_memory";
  /** An automatic restart by the restart policy (not a user's start, nor a retry of a failed start). */
  restart?: boolean;
  /** Log offsets where this run's output begins. */
  logStart?: { stdout: number; stderr: number };
  /** Taken over from a previous daemon (see adopt.ts): no child handle, its end found by adopted-exit-watcher.ts. */
  adopted?: boolean;
  /** An adopted run: look now whether it has ended (after a stop), rather than at the watcher's next look. */
  checkGone?: () => void;
  /** Set when the exit status cannot be known (the process was not this daemon's child): why. */
  exitStatusUnknown?: string;
  /** The spawn failed for want of disk space or file descriptors (the start's caller is told). */
  resourceError?: ResourceExhaustedError;
  /** The run's own cgroup, where the host offers them (os/cgroup.ts). */
  cgroup?: RunCgroup;
}

/** A run a previous daemon left, as the store kept it (see adopt.ts). */
export interface RestoredRun {
  runId: number;
  pid: number;
  pidStartTicks: number;
  startedAt: Date;
  logStart: { stdout: number; stderr: number };
}

/** How a restored run had ended (Program.restore, kind finished). */
export interface EndedRun {
  exitedAt: Date;
  exitCode?: number;
  exitSignal?: string;
  spawnError?: string;
  exitStatusUnknown?: string;
}

/** A saved run as a Run: its monotonic start is placed as far back as its wall-clock age. */
export function restoredRun(saved: RestoredRun & Partial<EndedRun>, exited: Promise<void>): Run {
  return { ...saved, startedMono: performance.now() - Math.max(0, Date.now() - saved.startedAt.getTime()), exited };
}

/** The exit in words, for a state's reason. */
export function describeExit(run: Run): string {
  if (run.exitStatusUnknown) return `exit status unknown: ${run.exitStatusUnknown}`;
  const how = run.exitSignal ? `killed by ${run.exitSignal}` : `exited with code ${run.exitCode}`;
  return run.killedBecause ? `${how} (${run.killedBecause})` : how;
}

/** What a snapshot shows of a run. */
export function runSnapshotOf(run: Run): RunSnapshot {
  return {
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
