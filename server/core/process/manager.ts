// ProcessManager: the facade of the process core for one daemon (start, stop, signal, bulk
// operations, live config, logs, events), wiring its parts: program-set.ts, bulk.ts,
// live-config.ts, persistence.ts. No gRPC here: the rpc layer calls these methods.
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { TimeoutError } from "../errors.js";
import { withTimeout } from "../os/abort.js";
import { RunIdAllocator } from "../store/run-ids.js";
import { EventJournal, type WatchItem, type WatchOptions } from "./journal.js";
import { startAfterRestore } from "./adopt.js";
import { Persistence, type RestoreOutcome } from "./persistence.js";
import { HOME_MARKER } from "./spawn-recovery.js";
import { BulkOperations, refuseRemote, startedOrFatal, type StartOptions, type StopOptions } from "./bulk.js";
import { followAllLogs, followLogs, readLogs, type FollowLogsOptions, type ProgramLogChunk, type ReadLogsOptions, type ReadLogsResult } from "./log-access.js";
import { DEFAULT_LOG_MAX_TOTAL_BYTES, LogBudget } from "./log-budget.js";
import { ProgramSet } from "./program-set.js";
import { LiveConfig, type AppliedConfig, type ConfigSource } from "./live-config.js";
import { detectCgroups, removeSubtree, type CgroupSupport } from "../os/cgroup.js";
import { shutDownPrograms } from "./shutdown.js";
import { assertFitsHost, hostCapabilities, type FitSource, type HostCapabilities } from "./host-fit.js";
import { parseSignal } from "../os/signals.js";
import type { LogChunk, ProcessSnapshot, ProgramConfig, ProgramResult, Selector, ShutdownResult, StopResult, ProcessManagerOptions } from "./types.js";

export type { ProcessManagerOptions, StopResult } from "./types.js";

export type { StartOptions, StopOptions } from "./bulk.js";
export type { FollowLogsOptions, ProgramLogChunk, ReadLogsOptions, ReadLogsResult } from "./log-access.js";

export class ProcessManager {
  readonly journal: EventJournal;
  readonly home: string;
  /** What the host offers for containment, detected once at start-up (os/cgroup.ts). */
  readonly containment: CgroupSupport;
  /** What programs may ask of this host (limits, another user): checked on every program that comes in (host-fit.ts). */
  readonly host: HostCapabilities;
  readonly logDir: string;
  readonly hostName: string;
  private readonly stopOrder: "parallel" | "sequential";
  private readonly programs: ProgramSet;
  private readonly runIds: RunIdAllocator;
  private shuttingDown?: Promise<void>;
  /** ApplyConfig and ad-hoc programs: changes of the set while the daemon runs (live-config.ts). */
  private readonly live: LiveConfig;
  /** Start-all and stop-all, in dependency and config order (bulk.ts). */
  private readonly bulk = new BulkOperations({
    programs: () => this.programs.map,
    program: (name) => this.programs.get(name),
    holdSaves: () => this.persistence.holdSaves(),
  });
  /** The state store and journal file; re-adoption of a previous daemon's runs (persistence.ts, adopt.ts). */
  readonly persistence: Persistence;
  private readonly restored: RestoreOutcome;
  /** server.logs.max_total: drops the oldest logs across programs when all of them take more. */
  readonly logBudget: LogBudget;

  constructor(options: ProcessManagerOptions) {
    this.home = options.home;
    this.logDir = join(options.home, "logs");
    this.hostName = options.hostName ?? hostname();
    this.stopOrder = options.stopOrder ?? "parallel";
    this.containment = detectCgroups({ root: options.cgroupRoot, home: options.home });
    this.host = hostCapabilities(this.containment);
    // Before anything of the home is touched: a config this host cannot honour is refused whole.
    try {
      this.checkFits(options.programs, { file: options.liveConfig?.configPath ?? "config", fieldOf: (name, field) => `programs.${name}.${field}` });
    } catch (error) {
      removeSubtree(this.containment);
      throw error;
    }
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    mkdirSync(join(options.home, "state"), { recursive: true, mode: 0o700 });
    this.journal = options.journal ?? new EventJournal();
    // What every program is given, read as each is added (below, once persistence and run ids are set up).
    this.programs = new ProgramSet(() => ({
      journal: this.journal,
      nextRunId: () => this.runIds.next(),
      runIdPath: this.runIds.path,
      logDir: this.logDir,
      hostName: this.hostName,
      onChange: () => this.persistence.changed(),
      logBudget: this.logBudget,
      spawnLog: this.persistence.spawnLog,
      watchExit: (run, onGone) => this.persistence.watchExit(run, onGone),
      markerEnv: { [HOME_MARKER]: this.home },
      cgroups: this.containment,
    }));
    this.logBudget = new LogBudget({
      maxTotalBytes: options.logMaxTotalBytes ?? DEFAULT_LOG_MAX_TOTAL_BYTES,
      files: () => [...this.programs.values()].flatMap((p) => p.logFiles()),
      report: (file, dropped, why) =>
        this.journal.append(file.program, 0, {
          kind: "server",
          message: `log retention: dropped ${dropped.bytes} bytes of ${file.program}'s ${file.stream} (offsets ${dropped.fromOffset}-${dropped.toOffset}, ${dropped.path}): ${why}`,
        }),
    });
    const reader = options.liveConfig?.reader;
    this.persistence = new Persistence({
      stateDir: join(options.home, "state"),
      journal: this.journal,
      programs: () => this.programs.values(),
      addAdhoc: (config, input) => this.programs.add(config, input),
      readAdhoc:
        reader &&
        ((name, input) => {
          const config = reader.parseProgram(name, input, { source: "saved state", fieldPrefix: "", baseDir: options.home });
          this.checkFits([config], { file: "saved state", fieldOf: (_name, field) => field });
          return config;
        }),
    });
    this.live = new LiveConfig(
      {
        programs: () => this.programs.map,
        add: (config, adhocInput) => this.programs.add(config, adhocInput),
        home: this.home,
        journal: () => this.journal,
        startAll: (selector, startOptions) => this.startAll(selector, startOptions),
        stopAll: (selector, stopOptions) => this.stopAll(selector, stopOptions),
        saved: () => this.persistence.saveNow(),
        checkFits: (configs, source) => this.checkFits(configs, source),
      },
      options.liveConfig,
    );
    this.runIds = new RunIdAllocator(join(options.home, "state", "run-id"));
    for (const config of options.programs) this.programs.add(config);
    // Runs a previous daemon left are adopted here, before any client can act on the programs.
    this.restored = this.persistence.restore(this.programs.map);
  }

  /** Refuses (ConfigError) programs of this host that ask for what it cannot give: limits without their controller, another user without root (host-fit.ts). */
  private checkFits(configs: readonly ProgramConfig[], source: FitSource): void {
    assertFitsHost(configs, this.host, this.hostName, source);
  }

  /** max_memory: run runId of the program went over it (core/monitor/max-memory.ts measured it): restarted by its policy as "always". */
  async restartOverMemory(name: string, runId: number, rssBytes: number, maxMemoryBytes: number): Promise<void> {
    if (this.shuttingDown) return;
    await this.programs.get(name).restartOverMemory(runId, rssBytes, maxMemoryBytes);
  }

  /** Starts the autostart programs (config order) without waiting for them. */
  async init(): Promise<void> {
    this.journal.append("", 0, {
      kind: "server",
      message: `daemon started with ${this.programs.size} program(s); containment: ${this.containment.description}`,
    });
    // Logs written while no daemon ran (or under a larger cap) count too.
    this.logBudget.noteGrowth();
    // A restored program's saved state wins over autostart (see the constructor).
    await startAfterRestore([...this.programs.values()], this.restored, {
      restart: (name) => this.restart(name, { wait: "none" }),
      startAll: (names) => this.startAll({ names }, { wait: "none" }),
    });
  }

  list(selector?: Selector): ProcessSnapshot[] {
    return this.programs.select(selector).map((p) => p.snapshot());
  }

  get(name: string): ProcessSnapshot {
    return this.programs.get(name).snapshot();
  }

  /** How many programs there are (without building their snapshots). */
  get programCount(): number {
    return this.programs.size;
  }

  /** A program's config without building its snapshot; undefined when there is none by that name (removed meanwhile). */
  configOf(name: string): ProgramConfig | undefined {
    return this.programs.map.get(name)?.config;
  }

  /** The host a program runs on (its snapshot's `host`) without building its snapshot; "" for none by that name. */
  hostOf(name: string): string {
    const config = this.configOf(name);
    return config ? config.host || this.hostName : "";
  }

  async start(name: string, options: StartOptions = {}): Promise<ProcessSnapshot> {
    const program = this.programs.get(name);
    this.persistence.saveStartIntent([program]);
    if (Object.keys(program.config.dependsOn ?? {}).length === 0) await program.startChecked();
    else await this.bulk.startWithDependencies(program, new Map(), options, true);
    await this.bulk.waitStarted(program, options);
    return startedOrFatal(program, options);
  }

  async stop(name: string, options: StopOptions = {}): Promise<StopResult> {
    const program = this.programs.get(name);
    refuseRemote(program, "stop");
    const pid = program.isActive() ? (program.run?.pid ?? 0) : 0;
    this.persistence.saveStopIntent([program]);
    const stopping = program.stopWithResult();
    if (options.wait === "none") {
      stopping.catch(() => undefined);
      const pending: ShutdownResult =
        pid > 0 ? { wasRunning: true, pid, how: "pending", survivors: [] } : { wasRunning: false, pid: 0, how: "not_running", survivors: [] };
      return { process: program.snapshot(), survivors: [], shutdown: pending };
    }
    const timeoutMs = options.timeoutMs && options.timeoutMs > 0 ? options.timeoutMs : program.config.stopTimeoutMs + 10_000;
    const shutdown = await withTimeout(stopping, {
      timeoutMs,
      signal: options.signal,
      onTimeout: () => new TimeoutError(`${name}: not stopped after ${timeoutMs} ms`),
    });
    // The caller hears of the stop once its outcome (exit status and time) is on disk too; the
    // write waits in the thread pool, so the stop's events reach their watchers meanwhile.
    await this.persistence.saveDurably();
    return { process: program.snapshot(), survivors: shutdown.survivors, shutdown };
  }

  async restart(name: string, options: StartOptions = {}): Promise<ProcessSnapshot> {
    const program = this.programs.get(name);
    refuseRemote(program, "restart");
    // Saved before the stop signal: killed between the stop and the start, the next daemon starts it.
    program.noteIntent("start");
    this.persistence.saveNow();
    await program.stop("restart");
    program.start();
    await this.bulk.waitStarted(program, options);
    return startedOrFatal(program, options);
  }

  signal(name: string, signal: string, options: { group?: boolean } = {}): ProcessSnapshot {
    const program = this.programs.get(name);
    program.signal(parseSignal(signal), options.group ?? false);
    return program.snapshot();
  }

  /** Starts in config order (spawns are issued one by one), then waits for all together (bulk.ts). */
  startAll(selector?: Selector, options: StartOptions = {}): Promise<ProgramResult[]> {
    const programs = this.programs.select(selector);
    this.persistence.saveStartIntent(programs);
    return this.bulk.startAll(programs, options);
  }

  /** Stops dependents before their dependencies, in reverse config order (bulk.ts). */
  stopAll(selector?: Selector, options: StopOptions = {}): Promise<ProgramResult[]> {
    const programs = this.programs.select(selector);
    // Every program's stop is saved before the first signal of the first level goes out: a crash
    // in the middle (sequential stops included) must not bring back the ones already signalled
    // (restarts and config changes saved their own intent; a shutdown keeps the user's).
    if ((options.cause ?? "stop") === "stop")
      this.persistence.saveStopIntent(programs.filter((program) => program.remoteHost === undefined || program.isActive()));
    return this.bulk.stopAll(programs, { ...options, sequential: options.sequential ?? this.stopOrder === "sequential" });
  }

  writeStdin(name: string, data: Uint8Array): Promise<number> {
    return this.programs.get(name).writeStdin(data);
  }

  closeStdin(name: string): Promise<void> {
    return this.programs.get(name).closeStdin();
  }

  /** The config programs become these, restarting only what changed (live-config.ts). */
  applyConfig(programs: ProgramConfig[], options: { dryRun?: boolean } = {}): Promise<AppliedConfig> {
    return this.live.apply(programs, options);
  }

  /** ApplyConfig: config text or an absolute file path, read and applied (live-config.ts). */
  applyConfigFrom(source: ConfigSource | undefined, options: { dryRun?: boolean; allowEmpty?: boolean } = {}): Promise<AppliedConfig> {
    return this.live.applyFrom(source, options);
  }

  /** ReloadConfig: the daemon's config file, read again and applied. */
  reloadConfig(options: { dryRun?: boolean } = {}): Promise<AppliedConfig> {
    return this.live.reload(options);
  }

  /** CreateProgram: an ad-hoc program given as a config file would hold it; start: start it now. */
  createProgram(name: string, input: Record<string, unknown>, options: { start?: boolean } = {}): Promise<ProcessSnapshot> {
    return this.live.create(name, input, options);
  }

  /** DeleteProgram: stops an ad-hoc program, then removes it. */
  deleteProgram(name: string): Promise<ProcessSnapshot> {
    return this.live.delete(name);
  }

  readLogs(name: string, options: ReadLogsOptions): Promise<ReadLogsResult> {
    return readLogs(this.programs.get(name), options);
  }

  /** Follows one stream, or both merged in arrival order (log-access.ts). */
  async *followLogs(name: string, options: FollowLogsOptions = {}): AsyncGenerator<LogChunk> {
    yield* followLogs(this.programs.get(name), options);
  }

  /** Follows every local program configured now, chunks tagged with their program (log-access.ts). */
  followAllLogs(options: Omit<FollowLogsOptions, "offset"> = {}): AsyncGenerator<ProgramLogChunk> {
    return followAllLogs(
      [...this.programs.values()].filter((program) => program.remoteHost === undefined),
      options,
    );
  }

  watchEvents(options: WatchOptions = {}): AsyncGenerator<WatchItem> {
    return this.journal.watch(options);
  }

  /**
   * Stops every program (reverse order, two-stage) and releases timers and watchers. With
   * keepProcesses the runs are left running and saved, for the next daemon to adopt; so are the
   * runs of programs configured with detach (an explicit stop still stops them).
   */
  shutdown(options: { keepProcesses?: boolean } = {}): Promise<void> {
    this.shuttingDown ??= shutDownPrograms(
      {
        programs: [...this.programs.values()],
        journal: this.journal,
        persistence: this.persistence,
        bulk: this.bulk,
        logBudget: this.logBudget,
        containment: this.containment,
        sequential: this.stopOrder === "sequential",
      },
      options.keepProcesses ?? false,
    );
    return this.shuttingDown;
  }
}
