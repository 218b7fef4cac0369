// The stop of a program's run: its processes as one group for os/group-stop.ts (process group,
// cgroup, marker), the two-stage kill, a user's stop with its cause (STOPPING -> STOPPED), and
// a signal sent to the run only while its pid is still the process corral started.
import { crashPoint, failpointNumber } from "../failpoints.js";
import { WrongStateError } from "../errors.js";
import { sleep } from "../os/abort.js";
import { KILL_WAIT_MS, stopProcessGroup, type ProcessGroupRef } from "../os/group-stop.js";
import { isSameProcess } from "../os/proc.js";
import { SpawnedChild } from "../os/spawner.js";
import type { ProgramCore } from "./program-core.js";
import { formatBytes } from "./run-exit.js";
import { describeExit, type Run } from "./run.js";
import type { ShutdownResult } from "./types.js";

/**
 * Who asked for a stop, said in its exit ("stopped by request"): an exit corral caused is an
 * expected one. Only "stop" changes the program's desired state: a restart or a config change
 * wants it running again, and the daemon's shutdown keeps the user's word (persistence.ts).
 */
export type StopCause = NonNullable<Run["stopCause"]>;

export const STOP_CAUSE_TEXT: Record<StopCause, string> = {
  stop: "stopped by request",
  restart: "stopped by request (restart)",
  config: "stopped by request (config change)",
  shutdown: "stopped by request (daemon shutdown)",
};

/**
 * The run's processes for os/group-stop.ts: its group (the leader is our child until its
 * 'exit'), its cgroup, and without one the marker its processes inherited (home + run id).
 */
function groupOf(core: ProgramCore, run: Run): ProcessGroupRef {
  const home = core.deps.markerEnv;
  const marker = home && Object.keys(home).length > 0 && run.runId > 0 ? { ...home, CORRAL_RUN_ID: String(run.runId) } : undefined;
  const leaderExited = () => run.exitedAt !== undefined || run.child === undefined;
  const child = run.child;
  const sendToGroup = child instanceof SpawnedChild ? (signal: NodeJS.Signals) => child.signalGroup(signal) : undefined;
  return { pgid: run.pid, leaderStartTicks: run.pidStartTicks, leaderExited, leaderExit: run.exited, sendToGroup, cgroup: run.cgroup, marker };
}

/** The two-stage stop of the run's processes (os/group-stop.ts): survivors (also journaled), and whether SIGKILL was needed. */
export async function killRunGroup(core: ProgramCore, run: Run): Promise<{ survivors: number[]; killed: boolean }> {
  // A run still being forked by the spawner: stopped once its pid is known (or its spawn failed).
  if (run.spawning) await run.spawning;
  if (run.pid <= 0) return { survivors: [], killed: false };
  const result = await stopProcessGroup(groupOf(core, run), { signal: core.config.stopSignal, timeoutMs: core.config.stopTimeoutMs });
  if (result.survivors.length > 0) {
    const message = `${core.name}: ${result.survivors.length} process(es) of run ${run.runId} survived SIGKILL: ${result.survivors.join(", ")}`;
    core.deps.journal.append(core.name, run.runId, { kind: "server", message });
  } else if (run.exitedAt !== undefined || run.child === undefined) {
    await run.cgroup?.removeWhenEmpty();
  }
  return result;
}

/** A user's stop, one at a time per program: a second stop while one is under way gets the first's result. */
export class RunStopper {
  private stopping?: Promise<ShutdownResult>;

  constructor(
    private readonly core: ProgramCore,
    /** The pending retry or restart (run-exit.ts): a stop cancels it. */
    private readonly retry: { readonly pending: boolean; cancel(): void },
  ) {}

  /** Cancels a pending retry or restart; stops a live run two-stage. Stopping a program that is not up is a no-op. */
  async stop(cause: StopCause): Promise<ShutdownResult> {
    if (this.stopping) return this.stopping;
    const core = this.core;
    if (cause === "stop") core.noteIntent("stop");
    const notRunning: ShutdownResult = { wasRunning: false, pid: 0, how: "not_running", survivors: [] };
    if (core.state === "BACKOFF" || (core.state === "EXITED" && this.retry.pending)) {
      this.retry.cancel();
      core.transition("STOPPED", `${STOP_CAUSE_TEXT[cause]} (pending retry cancelled)`);
      return notRunning;
    }
    if (core.state !== "STARTING" && core.state !== "RUNNING") return notRunning;
    const run = core.run;
    if (!run) return notRunning;
    core.clearStartTimer();
    core.transition("STOPPING", `sending ${core.config.stopSignal} to process group ${run.pid}`);
    run.stopCause = cause;
    this.stopping = (async (): Promise<ShutdownResult> => {
      const { survivors, killed } = await killRunGroup(core, run);
      // An adopted run is no child of ours: its end is looked for now that its processes are gone.
      if (survivors.length === 0) run.checkGone?.();
      // Our child's exit status comes with its 'exit' event, which the group stop waited for: no timer then.
      if (run.exitedAt === undefined) await Promise.race([run.exited, sleep(KILL_WAIT_MS, undefined, { unref: true })]);
      const how = `${STOP_CAUSE_TEXT[cause]}; ${describeExit(run)}`;
      core.transition("STOPPED", survivors.length > 0 ? `${how}; ${survivors.length} process(es) survived SIGKILL: ${survivors.join(", ")}` : how);
      return { wasRunning: true, pid: run.pid, how: survivors.length > 0 ? "survivors" : killed ? "hard" : "soft", survivors };
    })();
    // The stop signal is out (killRunGroup sends it before its first wait): a crash test's point (failpoints.ts).
    crashPoint("crash-after-stop-signal");
    if (cause === "shutdown") crashDuringShutdown();
    try {
      return await this.stopping;
    } finally {
      this.stopping = undefined;
    }
  }
}

let shutdownStopSignals = 0;

/** crash-during-shutdown=N: the daemon dies right after its shutdown's Nth stop signal (default the first). */
function crashDuringShutdown(): void {
  shutdownStopSignals++;
  if (shutdownStopSignals >= (failpointNumber("crash-during-shutdown") ?? 1)) crashPoint("crash-during-shutdown");
}

/** Sends a signal to the current run (or its group), checking that the pid is still ours. */
export function signalRun(core: ProgramCore, signal: NodeJS.Signals, group: boolean): void {
  core.refuseRemote("signal");
  const run = core.run;
  const { name, state } = core;
  if (!run || run.exitedAt || run.pid <= 0 || !(state === "RUNNING" || state === "STARTING" || state === "STOPPING")) {
    throw new WrongStateError(`${name} is ${state}: no running process to signal`, "NOT_RUNNING", {
      subject: `program/${name}`,
      metadata: { program: name, state },
    });
  }
  if (!isSameProcess(run.pid, run.pidStartTicks)) {
    throw new WrongStateError(`${name}: pid ${run.pid} is no longer the process corral started; not signalled`, "PID_REUSED", {
      subject: `program/${name}`,
    });
  }
  if (group) process.kill(-run.pid, signal);
  else process.kill(run.pid, signal);
}

/**
 * max_memory (PM2's max_memory_restart): run runId's tree went over it. An event, then the run
 * is stopped two-stage like a failed liveness probe, and its exit (unexpected) goes through the
 * restart policy as autorestart: always would (backoff, max_restarts, FATAL), whatever the
 * program's autorestart says; in STARTING it is a failed start. A user's stop meanwhile wins.
 */
export async function stopOverMemory(core: ProgramCore, runId: number, rssBytes: number, maxMemoryBytes: number): Promise<void> {
  const run = core.run;
  if (!run || run.runId !== runId || run.exitedAt || !(core.state === "RUNNING" || core.state === "STARTING")) return;
  const why = `RSS ${formatBytes(rssBytes)} over max_memory ${formatBytes(maxMemoryBytes)}`;
  run.limitHit = "max_memory";
  run.killedBecause = why;
  core.emit({
    kind: "limitExceeded",
    limit: "max_memory",
    limitBytes: maxMemoryBytes,
    observedBytes: rssBytes,
    oomKills: 0,
    message: `${core.config.name}: run ${runId} ${why}: restarting it`,
  });
  await killRunGroup(core, run);
}
