// A run from its spawn to RUNNING: the run id reserved, the command checked and forked inside its
// own cgroup (spawn-run.ts does the fork), a failure to spawn made a failed start, and RUNNING
// after startsecs or the readiness probe's first pass; then the liveness probe watches it up.
import { errnoOf } from "../resource-errors.js";
import { crashPoint } from "../failpoints.js";
import type { EventDetail } from "./journal.js";
import { armReadinessTimeout } from "./readiness-timeout.js";
import { RunCgroup } from "../os/cgroup.js";
import { findByEnvironmentSoon } from "../os/environ.js";
import { readStat } from "../os/proc.js";
import { checkSpawnable } from "../os/spawnable.js";
import { findSetpriv, resolveCredentials, runAsArgv, type Credentials } from "../os/users.js";
import type { ProgramCore } from "./program-core.js";
import type { Run } from "./run.js";
import { killRunGroup } from "./run-stop.js";
import { runLeaderOf } from "./spawn-recovery.js";
import { spawnChild, spawnProblem, type RunSpawnProblem } from "./spawn-run.js";

type LogOffsets = { stdout: number; stderr: number };

export class RunStarter {
  constructor(
    private readonly core: ProgramCore,
    /** What follows a run's end and a failed start (run-exit.ts). */
    private readonly exits: { onExit(run: Run): void; startFailed(why: string): void },
  ) {}

  /** STARTING, and a new run forked; its exit (or a failure to spawn it) is handed to run-exit.ts. restart: an automatic restart. */
  spawnRun(reason: string, restart = false): void {
    const core = this.core;
    core.transition("STARTING", reason);
    // Reserving run ids writes a file now and then: a full disk fails this start, not the daemon.
    let runId = 0;
    let reserveError: unknown;
    try {
      runId = core.deps.nextRunId();
    } catch (error) {
      reserveError = error;
    }
    const startedAt = new Date();
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const run: Run = { runId, pid: 0, pidStartTicks: 0, startedAt, startedMono: performance.now(), exited, ...(restart ? { restart } : {}) };
    core.setRun(run);
    const startOffsets = { stdout: core.stdout.endOffsetSync(), stderr: core.stderr.endOffsetSync() };
    run.logStart = startOffsets;

    const problem =
      reserveError !== undefined
        ? spawnProblem(core.name, reserveError, "reserving run ids in", core.deps.runIdPath ?? "the state directory")
        : checkSpawnable(core.config.cwd, core.config.command[0], core.config.env);
    if (problem) {
      this.spawnFailed(run, problem);
      markExited();
      return;
    }
    const prepared = this.preparedArgv(run);
    if ("problem" in prepared) {
      this.spawnFailed(run, prepared.problem);
      markExited();
      return;
    }
    const spawned = spawnChild(core, runId, startOffsets, core.deps, prepared.argv, prepared.credentials, prepared.cgroup);
    if ("problem" in spawned) {
      this.spawnFailed(run, spawned.problem);
      markExited();
      return;
    }
    const child = spawned.child;
    run.child = child;
    child.on("error", () => undefined);
    child.once("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      run.exitedAt = new Date();
      if (code !== null) run.exitCode = code;
      if (signal !== null) run.exitSignal = signal;
      child.stdin?.destroy();
      run.child = undefined;
      this.exits.onExit(run);
      markExited();
    });
    // The spawner's child (os/spawner.ts) whose spawner died: init's now, its exit status lost.
    child.once("orphaned", () => {
      run.child = undefined;
      this.adoptOrphan(run, markExited);
    });
    if (child.pid === undefined) {
      // The spawner tells the pid after the exec; Node reports EMFILE, ENFILE, EAGAIN... of spawn
      // itself on the next tick (see Program.startChecked). A stop meanwhile waits (run.spawning).
      let settle!: () => void;
      run.spawning = new Promise<void>((resolve) => (settle = resolve));
      child.once("spawn", () => {
        run.spawning = undefined;
        this.forked(run, child.pid ?? 0, startOffsets);
        settle();
      });
      child.once("error", async (error: NodeJS.ErrnoException) => {
        if (run.spawning === undefined) return;
        run.child = undefined;
        const found = error.code === "ESPAWNER" ? await this.findByMarker(run) : undefined;
        run.spawning = undefined;
        if (found) {
          this.forked(run, found, startOffsets);
          this.adoptOrphan(run, markExited);
        } else {
          this.spawnFailed(run, spawnProblem(core.name, error, "spawning", core.config.command[0]));
          markExited();
        }
        settle();
      });
      return;
    }
    this.forked(run, child.pid, startOffsets);
  }

  /** The fork succeeded: the pid known, logged and announced; readiness and the start timer armed. */
  private forked(run: Run, pid: number, startOffsets: LogOffsets): void {
    const core = this.core;
    crashPoint("crash-after-fork");
    run.pid = pid;
    run.pidStartTicks = readStat(pid)?.startTicks ?? 0;
    core.deps.spawnLog?.spawned(core.name, run.runId, run.pid, run.pidStartTicks);
    run.child?.stdin?.on("error", () => undefined); // EPIPE when the program closed its stdin
    this.watchLogs();
    core.emit({ kind: "processStarted", pid: run.pid, pidStartTicks: run.pidStartTicks, ...(run.restart ? { restart: true } : {}) });
    // A stop that came while the spawner forked (run.spawning) is under way: it stops this run.
    if (core.run !== run || core.state !== "STARTING") return;
    this.startReadiness(run, startOffsets);
    this.armStartTimer(run);
  }

  /** A run whose spawner died (os/spawner.ts): watched like a run adopted from a previous daemon. */
  private adoptOrphan(run: Run, markExited: () => void): void {
    run.adopted = true;
    this.core.deps.watchExit(run, () => {
      if (run.exitedAt) return;
      run.exitedAt = new Date();
      run.exitStatusUnknown = "its spawner died, so the run was no child of the daemon's any more";
      this.exits.onExit(run);
      markExited();
    });
  }

  /**
   * The run a spawner that died under the request may have forked, by its marker (as
   * spawn-recovery.ts does after a daemon's death); the requests the spawner left share one pass over /proc.
   */
  private async findByMarker(run: Run): Promise<number | undefined> {
    const home = this.core.deps.markerEnv;
    if (!home || Object.keys(home).length === 0) return undefined;
    return runLeaderOf(await findByEnvironmentSoon({ ...home, CORRAL_PROGRAM: this.core.name, CORRAL_RUN_ID: String(run.runId) }))?.pid;
  }

  /** What ends STARTING: the readiness probe's first pass (or its start_timeout), else startsecs alive. */
  private armStartTimer(run: Run): void {
    const core = this.core;
    const stillStarting = () => core.run === run && core.state === "STARTING" && !run.exitedAt;
    if (core.config.readiness) {
      // RUNNING comes from the readiness probe's first pass (see onReadiness); one that never
      // passes must not leave the program STARTING for ever: a failed start (readiness-timeout.ts).
      const timer = armReadinessTimeout(core.config.readiness, stillStarting, (why) => {
        core.clearStartTimer();
        const last = core.probes.readinessStatus;
        run.killedBecause = `${why}${last ? `; last check: ${last.message}` : ""}`;
        void killRunGroup(core, run);
      });
      core.armStartTimer(timer);
    } else if (core.config.startsecsMs <= 0) {
      this.becomeRunning(run);
    } else {
      const timer = setTimeout(() => {
        core.clearStartTimer();
        if (stillStarting()) this.becomeRunning(run);
      }, core.config.startsecsMs);
      core.armStartTimer(timer);
    }
  }

  /** STARTING -> RUNNING (or a restored run RUNNING again), and its liveness probe started. */
  becomeRunning(run: Run, why = `pid ${run.pid} up for ${this.core.config.startsecsMs} ms`): void {
    const core = this.core;
    core.startSucceeded();
    core.clearStartTimer();
    core.transition("RUNNING", why);
    this.startLiveness(run);
  }

  /** While a run writes: watch its logs when rotation or the total cap needs to see them grow. */
  watchLogs(): void {
    const { logs, config, deps } = this.core;
    logs.watchWhileRunning(config.log.maxBytes > 0 || deps.logBudget?.enabled === true);
  }

  /** The run's readiness probe (program-probes.ts), checking its log lines from startOffsets. */
  startReadiness(run: Run, startOffsets: LogOffsets): void {
    this.core.probes.startReadiness(run, startOffsets, (ok, message) => this.onReadiness(run, ok, message));
  }

  /** A readiness verdict changed: an event, `ready` (derived from it), and STARTING -> RUNNING on the first pass. */
  private onReadiness(run: Run, ok: boolean, message: string): void {
    const core = this.core;
    if (run.exitedAt || !(core.state === "STARTING" || core.state === "RUNNING")) return;
    const detail: EventDetail = { kind: "probeChanged", probe: "readiness", ok, message };
    if (ok && core.state === "STARTING") {
      core.emit(detail);
      this.becomeRunning(run, `readiness probe passed: ${message}`);
      return;
    }
    core.changed(detail);
  }

  private startLiveness(run: Run): void {
    const core = this.core;
    core.probes.startLiveness(
      run,
      () => core.state === "RUNNING" && !run.exitedAt,
      (why) => {
        core.emit({ kind: "probeChanged", probe: "liveness", ok: false, message: why });
        run.killedBecause = why;
        // The exit then goes through onExit like a crash, so the restart policy decides.
        void killRunGroup(core, run);
      },
    );
  }

  private spawnFailed(run: Run, problem: RunSpawnProblem): void {
    run.spawnError = problem.message;
    run.resourceError = problem.resource;
    run.exitedAt = new Date();
    this.core.emit({ kind: "spawnFailed", path: problem.path, errno: problem.errno, message: problem.message, ...(run.restart ? { restart: true } : {}) });
    if (this.core.state === "STARTING") this.exits.startFailed(`spawn failed: ${problem.message}`);
  }

  /**
   * The command as the run's user (setpriv, os/users.ts) inside a new cgroup of its own with the
   * program's limits (os/cgroup.ts), where the host offers them. A host that refuses a cgroup:
   * said, and run without, unless the program has limits: a run never starts without them.
   */
  private preparedArgv(run: Run): { argv: { command: string; args: string[] }; credentials?: Credentials; cgroup?: RunCgroup } | { problem: RunSpawnProblem } {
    const core = this.core;
    const { runAs, limits } = core.config;
    let argv = { command: core.config.command[0], args: core.config.command.slice(1) };
    let credentials: Credentials | undefined;
    if (runAs) {
      const resolved = resolveCredentials(runAs);
      if ("problem" in resolved) {
        const { field, value, rule } = resolved.problem;
        return { problem: { path: value || runAs.user, errno: "ENOENT", message: `${core.name}: ${field} ${value || runAs.user}: ${rule}` } };
      }
      const setpriv = findSetpriv();
      if (!setpriv)
        return { problem: { path: "setpriv", errno: "ENOENT", message: `${core.name}: running as ${runAs.user} needs setpriv(1) (util-linux) on PATH` } };
      credentials = resolved.credentials;
      argv = runAsArgv(setpriv, credentials, argv.command, argv.args);
    }
    const support = core.deps.cgroups;
    const limited = limits !== undefined && Object.keys(limits).length > 0;
    if (!support || support.mode === "none" || run.runId <= 0) {
      if (limited) return { problem: { path: "limits", errno: "ENOTSUP", message: `${core.name}: its limits need a cgroup and this host gives none` } };
      return { argv, ...(credentials ? { credentials } : {}) };
    }
    try {
      run.cgroup = RunCgroup.create(support, run.runId, limits);
      return { argv, cgroup: run.cgroup, ...(credentials ? { credentials } : {}) };
    } catch (error) {
      const why = errnoOf(error) ?? String(error);
      if (limited) {
        return { problem: spawnProblem(core.name, error, "making the run's cgroup with its limits in", RunCgroup.pathFor(support, run.runId)) };
      }
      core.emit({ kind: "server", message: `${core.name}: run ${run.runId} gets no cgroup (${why}); it is stopped by process group and marker` });
      return { argv, ...(credentials ? { credentials } : {}) };
    }
  }
}
