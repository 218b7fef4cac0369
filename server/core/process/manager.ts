// ProcessManager: the set of programs of one daemon and the operations on them (start, stop,
// signal, bulk operations, logs, events). No gRPC here: the rpc layer calls these methods.
import { mkdirSync, closeSync, openSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError, TimeoutError, WrongStateError } from "../errors.js";
import { resourceError } from "../resource-errors.js";
import { RunIdAllocator } from "../store/run-ids.js";
import { EventJournal, type WatchItem, type WatchOptions } from "../store/journal.js";
import { Persistence, type RestoreOutcome } from "./adopt.js";
import { HOME_MARKER } from "./spawn-recovery.js";
import { conditionHolds, dependencyGraph, dependencyLevels, type DependencyView } from "./dependencies.js";
import { merge } from "./merge.js";
import { DEFAULT_LOG_MAX_TOTAL_BYTES, LogBudget } from "./log-budget.js";
import { Program } from "./program.js";
import { LiveConfig, type AppliedConfig } from "./live-config.js";
import { withTimeout } from "../os/abort.js";
import { detectCgroups, removeSubtree, type CgroupSupport } from "../os/cgroup.js";
import { parseSignal } from "../os/signals.js";
import type { LogChunk, LogStreamName, ProcessSnapshot, ProgramConfig, ProgramResult, Selector, StartWait, StopWait } from "./types.js";

export interface ProcessManagerOptions {
  /** Daemon home: logs go to <home>/logs, state to <home>/state. */
  home: string;
  programs: ProgramConfig[];
  journal?: EventJournal;
  /** This daemon's host name (default os.hostname()): programs with another `host` are remote. */
  hostName?: string;
  /** Cap on all programs' log files together, backups included (default 1 GiB; 0: none). */
  logMaxTotalBytes?: number;
  /** server.cgroup_root: where run cgroups go when the daemon's own cgroup is not usable; "off": no cgroups. */
  cgroupRoot?: string;
}

export interface StartOptions {
  wait?: StartWait; // default "running"
  timeoutMs?: number; // default 60_000; TimeoutError when the wait expires (the start goes on)
  signal?: AbortSignal;
}

export interface StopOptions {
  wait?: StopWait; // default "stopped"
  timeoutMs?: number; // default stopTimeoutMs + 10_000
  signal?: AbortSignal;
}

export interface StopResult {
  process: ProcessSnapshot;
  /** Pids of the group still alive after SIGKILL (should be empty). */
  survivors: number[];
}

export interface ReadLogsOptions {
  stream: LogStreamName;
  offset?: number;
  maxBytes?: number; // default and cap 1 MiB
  tailLines?: number;
}

export interface ReadLogsResult {
  chunk: LogChunk;
  firstOffset: number;
  endOffset: number;
}

export interface FollowLogsOptions {
  /** Both streams when omitted. */
  stream?: LogStreamName;
  tailLines?: number;
  offset?: number;
  signal?: AbortSignal;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const MAX_READ_BYTES = 1 << 20;

export class ProcessManager {
  readonly journal: EventJournal;
  readonly home: string;
  /** What the host offers for containment, detected once at start-up (os/cgroup.ts). */
  readonly containment: CgroupSupport;
  readonly logDir: string;
  readonly hostName: string;
  private readonly programs = new Map<string, Program>();
  private readonly runIds: RunIdAllocator;
  private shuttingDown?: Promise<void>;
  /** ApplyConfig and ad-hoc programs: changes of the set while the daemon runs (live-config.ts). */
  private readonly live = new LiveConfig({
    programs: () => this.programs,
    add: (config) => this.add(config),
    journal: () => this.journal,
    startAll: (selector, options) => this.startAll(selector, options),
    stopAll: (selector, options) => this.stopAll(selector, options),
    saved: () => this.persistence.saveNow(),
  });
  /** The state store and journal file; re-adoption of a previous daemon's runs (adopt.ts). */
  readonly persistence: Persistence;
  private readonly restored: RestoreOutcome;
  /** server.logs.max_total: drops the oldest logs across programs when all of them take more. */
  readonly logBudget: LogBudget;

  constructor(options: ProcessManagerOptions) {
    this.home = options.home;
    this.logDir = join(options.home, "logs");
    this.hostName = options.hostName ?? hostname();
    this.containment = detectCgroups({ root: options.cgroupRoot, home: options.home });
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    mkdirSync(join(options.home, "state"), { recursive: true, mode: 0o700 });
    this.journal = options.journal ?? new EventJournal();
    this.logBudget = new LogBudget({
      maxTotalBytes: options.logMaxTotalBytes ?? DEFAULT_LOG_MAX_TOTAL_BYTES,
      files: () => [...this.programs.values()].flatMap((p) => [p.stdout, p.stderr]),
      report: (file, dropped, why) =>
        this.journal.append(file.program, 0, {
          kind: "server",
          message: `log retention: dropped ${dropped.bytes} bytes of ${file.program}'s ${file.stream} (offsets ${dropped.fromOffset}-${dropped.toOffset}, ${dropped.path}): ${why}`,
        }),
    });
    this.persistence = new Persistence({
      stateDir: join(options.home, "state"),
      journal: this.journal,
      programs: () => this.programs.values(),
      addAdhoc: (config) => {
        const program = this.add(config);
        program.adhoc = true;
        return program;
      },
    });
    this.runIds = new RunIdAllocator(join(options.home, "state", "run-id"));
    for (const config of options.programs) this.add(config);
    // Runs a previous daemon left are adopted here, before any client can act on the programs.
    this.restored = this.persistence.restore(this.programs);
  }

  private add(config: ProgramConfig): Program {
    const program = new Program(config, {
      journal: this.journal,
      nextRunId: () => this.runIds.next(),
      runIdPath: this.runIds.path,
      logDir: this.logDir,
      hostName: this.hostName,
      onChange: () => this.persistence.changed(),
      logBudget: this.logBudget,
      spawnLog: this.persistence.spawnLog,
      markerEnv: { [HOME_MARKER]: this.home },
      cgroups: this.containment,
    });
    // The log files exist from the start, so readers and followers can open them at once.
    for (const file of [program.stdout.path, program.stderr.path]) {
      try {
        closeSync(openSync(file, "a", 0o640));
      } catch (error) {
        throw resourceError(error, `program ${config.name}: creating the log file`, file) ?? error;
      }
    }
    this.programs.set(config.name, program);
    return program;
  }

  /** Starts the autostart programs (config order) without waiting for them. */
  async init(): Promise<void> {
    this.journal.append("", 0, { kind: "server", message: `daemon started with ${this.programs.size} program(s); containment: ${this.containment.description}` });
    // Logs written while no daemon ran (or under a larger cap) count too.
    this.logBudget.noteGrowth();
    // A restored program's saved state wins over autostart (see the constructor).
    const { restored, resume } = this.restored;
    const autostart = [...this.programs.values()].filter((p) => p.remoteHost === undefined && (p.config.autostart && !restored.has(p.name)) || resume.includes(p.name)).map((p) => p.name);
    if (autostart.length === 0) return;
    const starting = this.startAll({ names: autostart }, { wait: "none" });
    // Independent programs are spawned by now; dependents wait for their conditions in the background.
    if (autostart.some((name) => Object.keys(this.programs.get(name)?.config.dependsOn ?? {}).length > 0)) void starting.catch(() => undefined);
    else await starting;
  }

  private program(name: string): Program {
    if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError("name", name, "must not be empty");
    const program = this.programs.get(name);
    if (!program) throw new NotFoundError("program", name);
    return program;
  }

  private select(selector: Selector = {}): Program[] {
    const labels = Object.entries(selector.matchLabels ?? {});
    const names = selector.names && selector.names.length > 0 ? selector.names : undefined;
    if (names) for (const name of names) this.program(name);
    const wanted = names ? new Set(names) : undefined;
    return [...this.programs.values()].filter(
      (p) => (!wanted || wanted.has(p.name)) && labels.every(([k, v]) => p.config.labels[k] === v),
    );
  }

  list(selector?: Selector): ProcessSnapshot[] {
    return this.select(selector).map((p) => p.snapshot());
  }

  get(name: string): ProcessSnapshot {
    return this.program(name).snapshot();
  }

  async start(name: string, options: StartOptions = {}): Promise<ProcessSnapshot> {
    const program = this.program(name);
    if (Object.keys(program.config.dependsOn ?? {}).length === 0) await program.startChecked();
    else await this.startWithDependencies(program, new Map(), options, true);
    await this.waitStarted(program, options);
    return program.snapshot();
  }

  /** What a dependent sees of a dependency. */
  private dependencyView(program: Program): DependencyView {
    const run = program.run;
    const exited = run?.exitedAt !== undefined;
    return {
      state: program.state,
      ready: program.ready,
      exited,
      exitedSuccessfully: exited && run?.exitSignal === undefined && run?.exitCode !== undefined && program.config.exitcodes.includes(run.exitCode),
      hasRun: run !== undefined,
    };
  }

  /**
   * Starts what the program depends on (each once per bulk operation: `starting` memoises),
   * waits for every condition, then starts the program. Without dependencies it spawns at once
   * (synchronously), so a bulk start issues all independent spawns in one go.
   */
  private startWithDependencies(program: Program, starting: Map<string, Promise<void>>, options: StartOptions, explicit: boolean): Promise<void> {
    const known = starting.get(program.name);
    if (known) return known;
    const deps = Object.entries(program.config.dependsOn ?? {}).filter(([dep]) => this.programs.has(dep));
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
          const dep = this.program(depName);
          const check = () => conditionHolds(condition, this.dependencyView(dep));
          if (!check().met && !dep.isActive()) {
            try {
              await this.startWithDependencies(dep, starting, options, false);
            } catch (error) {
              throw new WrongStateError(`${program.name} not started: its dependency ${depName} could not start: ${(error as Error).message}`);
            }
          }
          const deadline = performance.now() + timeoutMs;
          // Waiters resolve on a transition; by the time this runs the dependency may have moved on
          // (e.g. a finished run was started again by the same bulk start), so check again.
          for (;;) {
            await dep.waitFor((p) => {
              const result = conditionHolds(condition, this.dependencyView(p));
              return result.met || result.failed;
            }, Math.max(1, deadline - performance.now()), `${condition} (needed by ${program.name})`, options.signal);
            const result = check();
            if (result.met) break;
            if (result.failed) {
              throw new WrongStateError(`${program.name} not started: its dependency ${depName} ${result.why} (${dep.stateReason}); depends_on needs it ${condition}`);
            }
          }
        }),
      );
      startSelf();
    })();
    starting.set(program.name, promise);
    return promise;
  }

  private async waitStarted(program: Program, options: StartOptions): Promise<void> {
    const wait = options.wait ?? "running";
    if (wait === "none") return;
    const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : DEFAULT_START_TIMEOUT_MS;
    await program.waitFor(
      (p) => (wait === "ready" ? p.ready : p.state === "RUNNING") || p.state === "FATAL" || p.state === "STOPPED" || p.state === "STOPPING" || (p.state === "EXITED" && p.run?.exitedAt !== undefined),
      timeoutMs,
      wait === "ready" ? "ready" : "RUNNING",
      options.signal,
    );
  }

  async stop(name: string, options: StopOptions = {}): Promise<StopResult> {
    const program = this.program(name);
    refuseRemote(program, "stop");
    const stopping = program.stop();
    // The user's stop is durable before the call answers: a daemon killed now must not leave
    // the next one adopting the run as if nobody had asked.
    this.persistence.saveNow();
    if (options.wait === "none") {
      stopping.catch(() => undefined);
      return { process: program.snapshot(), survivors: [] };
    }
    const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : program.config.stopTimeoutMs + 10_000;
    const onTimeout = () => new TimeoutError(`${name}: not stopped after ${timeoutMs} ms`);
    const survivors = await withTimeout(stopping, { timeoutMs, signal: options.signal, onTimeout });
    return { process: program.snapshot(), survivors };
  }

  async restart(name: string, options: StartOptions = {}): Promise<ProcessSnapshot> {
    const program = this.program(name);
    refuseRemote(program, "restart");
    await program.stop();
    program.start();
    await this.waitStarted(program, options);
    return program.snapshot();
  }

  signal(name: string, signal: string, options: { group?: boolean } = {}): ProcessSnapshot {
    const program = this.program(name);
    program.signal(parseSignal(signal), options.group ?? false);
    return program.snapshot();
  }

  /** Starts in config order (spawns are issued one by one), then waits for all together. */
  async startAll(selector?: Selector, options: StartOptions = {}): Promise<ProgramResult[]> {
    const programs = this.select(selector);
    const starting = new Map<string, Promise<void>>();
    // Independent programs spawn right here, in config order; dependents as their conditions hold.
    const remote = programs.filter((program) => program.remoteHost !== undefined);
    const started = programs.filter((program) => program.remoteHost === undefined).map((program) => {
      const already = program.state === "RUNNING" || program.state === "STARTING" || program.state === "BACKOFF";
      // Already up counts as success for a bulk start.
      const promise = already ? Promise.resolve() : this.startWithDependencies(program, starting, options, false);
      return { program, promise };
    });
    return Promise.all(
      started.map(async ({ program, promise }) => {
        let error: Error | undefined;
        try {
          await promise;
          await this.waitStarted(program, options);
        } catch (startError) {
          error = startError as Error;
        }
        const snapshot = program.snapshot();
        if (!error && snapshot.state === "FATAL") error = new Error(`${program.name} is FATAL: ${snapshot.stateReason}`);
        return { name: program.name, ok: !error, error, process: snapshot };
      }),
    ).then((results) => [...results, ...remote.map(remoteResult)]);
  }

  /**
   * Stops dependents before their dependencies: by dependency level, highest first (one level
   * at a time); within a level, in reverse config order, signals first and the waits together.
   */
  async stopAll(selector?: Selector, options: StopOptions = {}): Promise<ProgramResult[]> {
    const programs = this.select(selector).reverse();
    const levels = dependencyLevels(dependencyGraph([...this.programs.values()].map((p) => p.config)));
    const byLevel = new Map<number, Program[]>();
    for (const program of programs) {
      const level = levels.get(program.name) ?? 0;
      byLevel.set(level, [...(byLevel.get(level) ?? []), program]);
    }
    const results: ProgramResult[] = [];
    for (const level of [...byLevel.keys()].sort((a, b) => b - a)) {
      results.push(...(await this.stopGroup(byLevel.get(level) ?? [], options)));
    }
    return results;
  }

  private async stopGroup(all: Program[], options: StopOptions): Promise<ProgramResult[]> {
    // A remote program has no process here to stop (unless it moved away while up: that run is stopped).
    const skipped = all.filter((program) => program.remoteHost !== undefined && !program.isActive());
    const programs = all.filter((program) => !skipped.includes(program));
    const stops = programs.map((program) => ({ program, stopping: program.stop() }));
    if (stops.length > 0) this.persistence.saveNow(); // one write for the whole group (see stop())
    return Promise.all(
      stops.map(async ({ program, stopping }) => {
        let error: Error | undefined;
        try {
          if (options.wait !== "none") {
            const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : program.config.stopTimeoutMs + 10_000;
            const onTimeout = () => new TimeoutError(`${program.name}: not stopped after ${timeoutMs} ms`);
            const survivors = await withTimeout(stopping, { timeoutMs, signal: options.signal, onTimeout });
            if (survivors.length > 0) error = new Error(`${program.name}: ${survivors.length} process(es) survived SIGKILL: ${survivors.join(", ")}`);
          } else stopping.catch(() => undefined);
        } catch (stopError) {
          error = stopError as Error;
        }
        return { name: program.name, ok: !error, error, process: program.snapshot() };
      }),
    ).then((results) => [...results, ...skipped.map(remoteResult)]);
  }

  writeStdin(name: string, data: Uint8Array): Promise<number> {
    return this.program(name).writeStdin(data);
  }

  closeStdin(name: string): Promise<void> {
    return this.program(name).closeStdin();
  }

  /** ApplyConfig: the config programs become these, restarting only what changed (live-config.ts). */
  applyConfig(programs: ProgramConfig[], options: { dryRun?: boolean } = {}): Promise<AppliedConfig> {
    return this.live.apply(programs, options);
  }

  /** CreateProgram: an ad-hoc program (validated by the caller); start: start it now. */
  createProgram(config: ProgramConfig, options: { start?: boolean } = {}): Promise<ProcessSnapshot> {
    return this.live.create(config, options);
  }

  /** DeleteProgram: stops an ad-hoc program, then removes it. */
  deleteProgram(name: string): Promise<ProcessSnapshot> {
    return this.live.delete(name);
  }

  private logFile(name: string, stream: LogStreamName) {
    const program = this.program(name);
    return stream === "stderr" ? program.stderr : program.stdout;
  }

  async readLogs(name: string, options: ReadLogsOptions): Promise<ReadLogsResult> {
    const file = this.logFile(name, options.stream);
    if (options.maxBytes !== undefined && (!Number.isInteger(options.maxBytes) || options.maxBytes < 0)) {
      throw new InvalidArgumentError("max_bytes", options.maxBytes, "must be a non-negative integer");
    }
    const maxBytes = Math.min(options.maxBytes || MAX_READ_BYTES, MAX_READ_BYTES);
    const offset = options.tailLines && options.tailLines > 0 ? await file.tailOffset(options.tailLines) : (options.offset ?? 0);
    const { first, end, ...chunk } = await file.read(offset, maxBytes);
    return { chunk, firstOffset: first, endOffset: end };
  }

  /** Follows one stream, or both merged in arrival order. */
  async *followLogs(name: string, options: FollowLogsOptions = {}): AsyncGenerator<LogChunk> {
    const program = this.program(name);
    const files = options.stream ? [options.stream === "stderr" ? program.stderr : program.stdout] : [program.stdout, program.stderr];
    if (options.offset !== undefined && files.length > 1) {
      throw new InvalidArgumentError("offset", options.offset, "an offset needs a single stream (stdout or stderr)");
    }
    const starts = await Promise.all(
      files.map(async (file) =>
        options.offset !== undefined ? options.offset : options.tailLines && options.tailLines > 0 ? file.tailOffset(options.tailLines) : (await file.bounds()).end,
      ),
    );
    if (files.length === 1) {
      yield* files[0].follow(starts[0], options.signal);
      return;
    }
    yield* merge(files.map((file, i) => file.follow(starts[i], options.signal)));
  }

  watchEvents(options: WatchOptions = {}): AsyncGenerator<WatchItem> {
    return this.journal.watch(options);
  }

  /**
   * Stops every program (reverse order, two-stage) and releases timers and watchers. With
   * keepProcesses the runs are left running and saved, for the next daemon to adopt.
   */
  shutdown(options: { keepProcesses?: boolean } = {}): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.persistence.beginShutdown();
      try {
        if (options.keepProcesses) {
          const live = [...this.programs.values()].filter((p) => p.run && !p.run.exitedAt && p.run.pid > 0).length;
          this.journal.append("", 0, { kind: "server", message: `daemon shutting down: leaving ${live} run(s) running for the next daemon to adopt` });
        } else {
          this.journal.append("", 0, { kind: "server", message: "daemon shutting down: stopping all programs" });
          await this.stopAll(undefined, { wait: "stopped" });
        }
      } finally {
        // Saved before dispose() cancels pending retries, so the next daemon resumes them.
        this.persistence.finish();
        for (const program of this.programs.values()) program.dispose();
        this.logBudget.close();
        removeSubtree(this.containment);
      }
    })();
    return this.shuttingDown;
  }
}

/** A bulk operation's result for a program of another host: nothing was done here. */
function remoteResult(program: Program): ProgramResult {
  return { name: program.name, ok: true, process: program.snapshot(), note: `remote: runs on host ${program.remoteHost}` };
}

/** Start, stop, restart and signal act on processes of this host only. */
function refuseRemote(program: Program, what: string): void {
  const host = program.remoteHost;
  if (host !== undefined) throw new WrongStateError(`${program.name} runs on host ${host}, not on this host: ${what} it on ${host}`);
}

