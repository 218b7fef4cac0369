// How the monitor learns which runs corral manages: an interface the daemon passes in (built
// from the ProcessManager by runLookupOf), so the monitor never reaches into the process core.
import { NotFoundError, WrongStateError } from "../errors.js";
import type { ProcessSnapshot } from "../process/types.js";

/** A live run of a program: its leader's identity on the host (pid + start ticks). */
export interface ManagedRun {
  program: string;
  runId: number;
  pid: number;
  pidStartTicks: number;
  /** The run's cgroup: its cpu.stat counts every process that ever ran in it. */
  cgroupPath?: string;
}

export interface RunLookup {
  /**
   * The live run of a program. NotFoundError for an unknown program, WrongStateError (naming
   * the state) when it has no live run.
   */
  currentRun(program: string): ManagedRun;
  /** Every live run, to attribute host processes to programs. */
  liveRuns(): ManagedRun[];
}

/** The parts of the ProcessManager a RunLookup is built on. */
export interface ProgramSource {
  get(name: string): ProcessSnapshot;
  list(): ProcessSnapshot[];
}

const LIVE_STATES = new Set(["STARTING", "RUNNING", "STOPPING"]);

function liveRunOf(snapshot: ProcessSnapshot): ManagedRun | undefined {
  const run = snapshot.run;
  if (!run || !LIVE_STATES.has(snapshot.state) || run.exitedAt || run.spawnError || run.pid <= 0) return undefined;
  return { program: snapshot.name, runId: run.runId, pid: run.pid, pidStartTicks: run.pidStartTicks, cgroupPath: run.cgroupPath };
}

export function runLookupOf(programs: ProgramSource): RunLookup {
  return {
    currentRun(name) {
      if (typeof name !== "string" || name === "") throw new NotFoundError("program", String(name));
      const snapshot = programs.get(name);
      const run = liveRunOf(snapshot);
      if (!run)
        throw new WrongStateError(
          `program "${name}" is not running (state ${snapshot.state}${snapshot.stateReason ? `: ${snapshot.stateReason}` : ""})`,
          "NOT_RUNNING",
          {
            subject: `program/${name}`,
          },
        );
      return run;
    },
    liveRuns: () => programs.list().flatMap((snapshot) => liveRunOf(snapshot) ?? []),
  };
}
