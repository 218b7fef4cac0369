// Bulk start and stop, and the order they keep: start-all follows dependencies (each dependency
// started once per bulk operation, its depends_on condition waited for), then config order;
// stop-all goes by dependency level, dependents first, in reverse config order within a level
// (all of a level at once, or with `sequential` one by one, each gone before the next).
import { ProgramFatalError, SurvivorsError, TimeoutError, WrongStateError } from "../errors.js";
import { withTimeout } from "../os/abort.js";
import { conditionHolds, dependencyGraph, dependencyLevels, type DependencyView } from "./dependencies.js";
import type { Program, StopCause } from "./program.js";
import { isExpectedExit } from "./restart-policy.js";
import type { ProcessSnapshot, ProgramResult, ShutdownResult, StartWait, StopWait } from "./types.js";

export interface StartOptions {
  wait?: StartWait; // default "running"
  timeoutMs?: number; // default 60_000; TimeoutError when the wait expires (the start goes on)
  signal?: AbortSignal;
}

export interface StopOptions {
  wait?: StopWait; // default "stopped"
  timeoutMs?: number; // default stopTimeoutMs + 10_000
  signal?: AbortSignal;
  /** Who asks (default "stop", a user's: the programs' desired state becomes stopped; see program.ts). */
  cause?: StopCause;
  /** Stop-all: within a level, one program at a time in reverse order, each gone before the next (QMI's proc_stop). */
  sequential?: boolean;
}

/**
 * A bulk stop holds background state saves at most this long: a program that ignores its stop
 * signal (up to stop_timeout, then SIGKILL) does not keep the others' changes from disk.
 */
export const STOP_SAVE_HOLD_MS = 1_000;

/** A start's wait for RUNNING (or ready) gives up after this long unless the caller says otherwise. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/** What the bulk operations need of the ProcessManager that owns the programs. */
export interface BulkHost {
  /** Every program, in config order. */
  programs(): ReadonlyMap<string, Program>;
  /** The program by name; NotFoundError when there is none. */
  program(name: string): Program;
  /** Background state saves wait until the release (persistence.ts holdSaves). */
  holdSaves?(): () => void;
}

export class BulkOperations {
  constructor(private readonly host: BulkHost) {}

  /** What a dependent sees of a dependency. */
  private dependencyView(program: Program): DependencyView {
    const run = program.run;
    const exited = run?.exitedAt !== undefined;
    return {
      state: program.state,
      ready: program.ready,
      exited,
      exitedSuccessfully: exited && isExpectedExit(program.config, run),
      hasRun: run !== undefined,
    };
  }

  /**
   * Starts what the program depends on (each once per bulk operation: `starting` memoises),
   * waits for every condition, then starts the program. Without dependencies it spawns at once
   * (synchronously), so a bulk start issues all independent spawns in one go.
   */
  startWithDependencies(
    program: Program,
    starting: Map<string, Promise<void>>,
    options: StartOptions,
    explicit: boolean,
    queued?: ReadonlyMap<string, Promise<void>>,
  ): Promise<void> {
    const known = starting.get(program.name);
    if (known) return known;
    const deps = Object.entries(program.config.dependsOn ?? {}).filter(([dep]) => this.host.programs().has(dep));
    const startSelf = () => {
      // A dependency that is already up is left alone; an explicit start of a running program is refused as usual.
      if (!explicit && (program.isActive() || program.state === "RUNNING")) return;
      program.start();
    };
    if (deps.length === 0) {
      let promise: Promise<void>;
      try {
        startSelf();
        promise = Promise.resolve();
      } catch (error) {
        promise = Promise.reject(error as Error);
      }
      starting.set(program.name, promise);
      return promise;
    }
    const promise = (async () => {
      const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_START_TIMEOUT_MS;
      await Promise.all(
        deps.map(async ([depName, condition]) => {
          const dep = this.host.program(depName);
          // A dependency the same bulk start has yet to (re)start is judged on that new run, not
          // on a finished earlier one (a migrate that completed yesterday must run first again).
          await queued?.get(depName);
          const check = () => conditionHolds(condition, this.dependencyView(dep));
          if (!check().met && !dep.isActive()) {
            try {
              await this.startWithDependencies(dep, starting, options, false, queued);
            } catch (error) {
              throw new WrongStateError(
                `${program.name} not started: its dependency ${depName} could not start: ${(error as Error).message}`,
                "DEPENDENCY_FAILED",
                {
                  subject: `program/${depName}`,
                  type: "DEPENDENCY",
                  metadata: { program: program.name, dependency: depName },
                },
              );
            }
          }
          const deadline = performance.now() + timeoutMs;
          // Waiters resolve on a transition; by the time this runs the dependency may have moved on
          // (e.g. a finished run was started again by the same bulk start), so check again.
          for (;;) {
            await dep.waitFor(
              (p) => {
                const result = conditionHolds(condition, this.dependencyView(p));
                return result.met || result.failed;
              },
              Math.max(1, deadline - performance.now()),
              `${condition} (needed by ${program.name})`,
              options.signal,
            );
            const result = check();
            if (result.met) break;
            if (result.failed) {
              throw new WrongStateError(
                `${program.name} not started: its dependency ${depName} ${result.why} (${dep.stateReason}); depends_on needs it ${condition}`,
                "DEPENDENCY_FAILED",
                {
                  subject: `program/${depName}`,
                  type: "DEPENDENCY",
                  metadata: { program: program.name, dependency: depName, condition },
                },
              );
            }
          }
        }),
      );
      startSelf();
    })();
    starting.set(program.name, promise);
    return promise;
  }

  async waitStarted(program: Program, options: StartOptions): Promise<void> {
    const wait = options.wait ?? "running";
    // Even without a wait, the reply says the run's pid: the spawner's fork is part of the start.
    if (wait === "none") return program.run?.spawning;
    const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_START_TIMEOUT_MS;
    await program.waitFor(
      (p) =>
        (wait === "ready" ? p.ready : p.state === "RUNNING") ||
        p.state === "FATAL" ||
        p.state === "STOPPED" ||
        p.state === "STOPPING" ||
        (p.state === "EXITED" && p.run?.exitedAt !== undefined),
      timeoutMs,
      wait === "ready" ? "ready" : "RUNNING",
      options.signal,
    );
  }

  /** Starts in config order (spawns are issued one by one), then waits for all together. */
  async startAll(programs: readonly Program[], options: StartOptions = {}): Promise<ProgramResult[]> {
    const starting = new Map<string, Promise<void>>();
    // Independent programs spawn right here, in config order; dependents as their conditions hold.
    const remote = programs.filter((program) => program.remoteHost !== undefined);
    const started: { program: Program; promise: Promise<void> }[] = [];
    const local = programs.filter((p) => p.remoteHost === undefined);
    // Settled once the loop below has issued that program's start (spawns are spread over turns).
    const issued = new Map<string, () => void>();
    const queued = new Map(local.map((program) => [program.name, new Promise<void>((resolve) => issued.set(program.name, resolve))]));
    // Each spawn's state changes would save every program's state again (~70 saves of 500
    // programs per 500 spawns); the intent is saved and the spawn log holds each run before and
    // after its fork, so one save once the spawns are issued.
    const releaseSaves = this.host.holdSaves?.();
    try {
      for (const program of local) {
        // One spawn per turn of the event loop: a spawn holds the loop (10-90 ms on a loaded
        // machine), and 100 in a row held it for 9 s, in which the programs already started wrote
        // unrotated, uncapped logs and no client was answered.
        if (started.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const already = program.state === "RUNNING" || program.state === "STARTING" || program.state === "BACKOFF";
        // Already up counts as success for a bulk start.
        const promise = already ? Promise.resolve() : this.startWithDependencies(program, starting, options, false, queued);
        issued.get(program.name)?.();
        // Failures are read below, with the others'.
        promise.catch(() => undefined);
        started.push({ program, promise });
      }
    } finally {
      // The spawner (os/spawner.ts) says the pids after the loop: the saves wait for those too.
      const forking = started.flatMap(({ program }) => program.run?.spawning ?? []);
      if (forking.length === 0) releaseSaves?.();
      else void Promise.all(forking).finally(() => releaseSaves?.());
    }
    return Promise.all(
      started.map(async ({ program, promise }) => {
        let error: Error | undefined;
        try {
          await promise;
          await this.waitStarted(program, options);
          startedOrFatal(program, options);
        } catch (startError) {
          error = startError as Error;
        }
        return { name: program.name, ok: !error, error, process: program.snapshot() };
      }),
    ).then((results) => [...results, ...remote.map(remoteResult)]);
  }

  /**
   * Stops dependents before their dependencies: by dependency level, highest first (one level
   * at a time); within a level, in reverse config order, signals first and the waits together.
   */
  async stopAll(selected: readonly Program[], options: StopOptions = {}): Promise<ProgramResult[]> {
    const programs = [...selected].reverse();
    const levels = dependencyLevels(dependencyGraph([...this.host.programs().values()].map((p) => p.config)));
    const byLevel = new Map<number, Program[]>();
    for (const program of programs) {
      const level = levels.get(program.name) ?? 0;
      const group = byLevel.get(level);
      if (group) group.push(program);
      else byLevel.set(level, [program]);
    }
    const results: ProgramResult[] = [];
    for (const level of [...byLevel.keys()].sort((a, b) => b - a)) {
      const group = byLevel.get(level) ?? [];
      if (options.sequential && options.wait !== "none") {
        for (const program of group) results.push(...(await this.stopGroup([program], options)));
      } else results.push(...(await this.stopGroup(group, options)));
    }
    return results;
  }

  private async stopGroup(all: Program[], options: StopOptions): Promise<ProgramResult[]> {
    // A remote program has no process here to stop (unless it moved away while up: that run is stopped).
    const skipped = all.filter((program) => program.remoteHost !== undefined && !program.isActive());
    const programs = all.filter((program) => !skipped.includes(program));
    // The intent was saved before the first level's signals (manager.ts stopAll, saveStopIntent).
    // Each stop's two state changes would save every program's state again as the exits come in
    // (a stop-all of 500 wrote ~10 snapshots, a sixth of the allocation that made its collections);
    // what a crash meanwhile loses, the next daemon finds in /proc (the saved runs are gone) and
    // in the intent. One save once the level's stops are done, or after STOP_SAVE_HOLD_MS at most.
    const releaseSaves = programs.length > 1 ? this.host.holdSaves?.() : undefined;
    const stops = programs.map((program) => ({
      program,
      pid: program.isActive() ? (program.run?.pid ?? 0) : 0,
      stopping: program.stopWithResult(options.cause),
    }));
    if (releaseSaves) {
      const cap = setTimeout(releaseSaves, STOP_SAVE_HOLD_MS).unref();
      void Promise.allSettled(stops.map(({ stopping }) => stopping)).then(() => {
        clearTimeout(cap);
        releaseSaves();
      });
    }
    return Promise.all(
      stops.map(async ({ program, pid, stopping }) => {
        let error: Error | undefined;
        let shutdown: ShutdownResult =
          pid > 0 ? { wasRunning: true, pid, how: "pending", survivors: [] } : { wasRunning: false, pid: 0, how: "not_running", survivors: [] };
        try {
          if (options.wait !== "none") {
            const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : program.config.stopTimeoutMs + 10_000;
            shutdown = await withTimeout(stopping, {
              timeoutMs,
              signal: options.signal,
              onTimeout: () => new TimeoutError(`${program.name}: not stopped after ${timeoutMs} ms`),
            });
            const { survivors } = shutdown;
            if (survivors.length > 0) error = new SurvivorsError(program.name, survivors);
          } else stopping.catch(() => undefined);
        } catch (stopError) {
          error = stopError as Error;
        }
        return { name: program.name, ok: !error, error, process: program.snapshot(), shutdown };
      }),
    ).then((results) => [...results, ...skipped.map(remoteResult)]);
  }
}

/**
 * The snapshot of a started program, or a ProgramFatalError when the start ended FATAL (a
 * waited-for start that gave up is a failure, not an OK answer with FATAL inside).
 */
export function startedOrFatal(program: Program, options: StartOptions): ProcessSnapshot {
  const snapshot = program.snapshot();
  if (snapshot.state !== "FATAL" || options.wait === "none") return snapshot;
  throw new ProgramFatalError(program.name, snapshot.stateReason, snapshot.run);
}

/** A bulk operation's result for a program of another host: nothing was done here. */
function remoteResult(program: Program): ProgramResult {
  return { name: program.name, ok: true, process: program.snapshot(), note: `remote: runs on host ${program.remoteHost}` };
}

/** Start, stop, restart and signal act on processes of this host only. */
export function refuseRemote(program: Program, what: string): void {
  const host = program.remoteHost;
  if (host !== undefined)
    throw new WrongStateError(`${program.name} runs on host ${host}, not on this host: ${what} it on ${host}`, "REMOTE_PROGRAM", {
      subject: `program/${program.name}`,
      metadata: { program: program.name, host },
    });
}
