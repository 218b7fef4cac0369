// Changes to the set of programs while the daemon runs: ApplyConfig and ReloadConfig (a new
// config's programs, restarting only what changed; see apply.ts for which fields need a restart)
// and ad-hoc programs (CreateProgram / DeleteProgram), with the daemon's policy for them: whether
// ad-hoc programs are allowed, where relative paths are resolved, which file a reload reads. One
// change at a time, each on the set the last left. Reading YAML is passed in (ConfigReader).
import { dirname, isAbsolute } from "node:path";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError, WrongStateError } from "../errors.js";
import type { FitSource } from "./host-fit.js";
import type { EventJournal } from "./journal.js";
import { dependencyProblems } from "./dependencies.js";
import { diffPrograms } from "./apply.js";
import type { Program } from "./program.js";
import type { StartOptions, StopOptions } from "./bulk.js";
import type { ProcessSnapshot, ProgramConfig, ProgramResult, Selector } from "./types.js";

/** How config text, config files and one program's settings are read (server/config: YAML, zod). */
export interface ConfigReader {
  /** Config text; relative paths against baseDir. Throws the loader's error, with every problem. */
  parseText(text: string, options: { file: string; baseDir: string }): Promise<ProgramConfig[]>;
  /** A config file by absolute path. */
  loadFile(path: string): Promise<ProgramConfig[]>;
  /** One program as a config file holds it (snake_case keys); problems name fieldPrefix.field. */
  parseProgram(name: string, input: Record<string, unknown>, options: { source: string; fieldPrefix: string; baseDir: string }): ProgramConfig;
}

/** The daemon's live-config policy (server.allow_adhoc, its config file) and its reader. */
export interface LiveConfigPolicy {
  /** Absolute path of the daemon's config file; undefined when it runs the built-in example. */
  configPath?: string;
  /** server.allow_adhoc: CreateProgram and DeleteProgram are allowed (default false). */
  allowAdhoc?: boolean;
  reader?: ConfigReader;
}

/** Where ApplyConfig finds the config: its text, or an absolute path on the daemon's host. */
export type ConfigSource = { text: string } | { path: string };

/** What LiveConfig needs of the ProcessManager that owns the programs. */
export interface LiveConfigHost {
  /** The manager's own map (config order); LiveConfig reorders it in place. */
  programs(): Map<string, Program>;
  /**
   * Creates a Program for the config, with its log files, and sets it in the map. adhocInput:
   * an ad-hoc program's settings as a config file would hold them (kept, for the next daemon).
   */
  add(config: ProgramConfig, adhocInput?: Record<string, unknown>): Program;
  /** The daemon's home: relative paths are resolved there when there is no config file. */
  home: string;
  journal(): EventJournal;
  startAll(selector: Selector, options: StartOptions): Promise<ProgramResult[]>;
  stopAll(selector: Selector, options: StopOptions): Promise<ProgramResult[]>;
  /** Saves the set durably now: an ad-hoc program created or deleted survives a daemon SIGKILL. */
  saved?: () => void;
  /**
   * Throws a ConfigError naming what this host cannot honour of these programs (limits without
   * their cgroup controller, another user without root: host-fit.ts); absent: nothing is checked.
   */
  checkFits?: (configs: readonly ProgramConfig[], source: FitSource) => void;
}

export interface ConfigChange {
  name: string;
  /** Changed fields as config keys ("env", "labels"). */
  fields: string[];
  /** A changed field needs a new run (whether the program is up or not). */
  needsRestart: boolean;
}

/** The outcome of ApplyConfig: names only, so it serialises as is (ConfigDiff on the wire). */
export interface AppliedConfig {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  /** Changed programs that were up and got (or, in a dry run, would get) a new run. */
  restarted: string[];
  changes: ConfigChange[];
  dryRun: boolean;
}

export class LiveConfig {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly host: LiveConfigHost,
    private readonly policy: LiveConfigPolicy = {},
  ) {}

  /** Where relative paths of config text and ad-hoc programs are resolved: beside the daemon's config. */
  private get baseDir(): string {
    return this.policy.configPath === undefined ? this.host.home : dirname(this.policy.configPath);
  }

  private get reader(): ConfigReader {
    if (!this.policy.reader)
      throw new WrongStateError("this daemon was started without a config reader, so it cannot read config text or files", "NO_CONFIG_READER");
    return this.policy.reader;
  }

  private requireAdhoc(what: string): void {
    if (!this.policy.allowAdhoc) {
      throw new PermissionDeniedError(
        `${what} refused: this daemon does not allow ad-hoc programs (set server.allow_adhoc: true in its config to allow them)`,
        "ADHOC_DISABLED",
      );
    }
  }

  /** ApplyConfig: the config text (relative paths beside the daemon's config) or file (absolute path) becomes the config programs. */
  async applyFrom(source: ConfigSource | undefined, options: { dryRun?: boolean; allowEmpty?: boolean } = {}): Promise<AppliedConfig> {
    let programs: ProgramConfig[];
    let file: string;
    if (source !== undefined && "text" in source) {
      file = "<ApplyConfig text>";
      programs = await this.reader.parseText(source.text, { file, baseDir: this.baseDir });
    } else if (source !== undefined && "path" in source) {
      if (!isAbsolute(source.path)) throw new InvalidArgumentError("path", source.path, "must be an absolute path on the daemon's host");
      file = source.path;
      programs = await this.reader.loadFile(source.path);
    } else {
      throw new InvalidArgumentError("source", "", "give the config as text or as a path");
    }
    // An empty file (or one with only a server section) would stop and remove every program:
    // almost always a mistake, so it takes an explicit allow_empty.
    if (programs.length === 0 && options.allowEmpty !== true) {
      throw new InvalidArgumentError(
        "programs",
        "(none)",
        "the config has no programs: applying it would stop and remove every program; set allow_empty (corral apply --allow-empty) if that is what you want",
      );
    }
    return this.apply(programs, { dryRun: options.dryRun, file });
  }

  /** ReloadConfig: the daemon's own config file, read again, becomes the config programs. */
  async reload(options: { dryRun?: boolean } = {}): Promise<AppliedConfig> {
    const path = this.policy.configPath;
    if (path === undefined) {
      throw new WrongStateError(
        "the daemon runs the built-in example config, so there is no file to reload; start it with --config FILE, or use ApplyConfig (corral apply FILE)",
        "NO_CONFIG_FILE",
      );
    }
    return this.apply(await this.reader.loadFile(path), { ...options, file: path });
  }

  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Makes the config programs those of `programs`; ad-hoc programs are left alone. Removed
   * programs are stopped, then dropped (their log files stay). Changed programs take the new
   * config; those that are up and changed a restart field get a new run; a program that is not
   * up (e.g. the user stopped it) stays down. Added programs start if autostart. The stops use
   * the old config (the process running was made for its stop_signal), and finish before the
   * call returns; starts are issued without waiting.
   */
  apply(programs: ProgramConfig[], options: { dryRun?: boolean; file?: string } = {}): Promise<AppliedConfig> {
    return this.serialised(async () => {
      // Refused as a whole, dry run or not, before anything changes: a limit is never dropped.
      this.host.checkFits?.(programs, { file: options.file ?? "<ApplyConfig>", fieldOf: (name, field) => `programs.${name}.${field}` });
      const set = this.host.programs();
      const clashes = programs.filter((config) => set.get(config.name)?.adhoc).map((config) => config.name);
      if (clashes.length > 0) {
        throw new InvalidArgumentError(
          "programs",
          clashes,
          `name(s) taken by ad-hoc program(s): delete them first (DeleteProgram), or rename them in the config`,
        );
      }
      const configured = [...set.values()].filter((program) => !program.adhoc);
      const diff = diffPrograms(
        configured.map((program) => program.config),
        programs,
      );
      const isUp = (name: string) => {
        const program = set.get(name);
        return program?.isActive() && program.state !== "STOPPING";
      };
      const restarted = diff.changed.filter((change) => change.needsRestart && isUp(change.name)).map((change) => change.name);
      const result: AppliedConfig = {
        added: diff.added.map((config) => config.name),
        changed: diff.changed.map((change) => change.name),
        removed: diff.removed.map((config) => config.name),
        unchanged: diff.unchanged,
        restarted,
        changes: diff.changed.map(({ name, fields, needsRestart }) => ({ name, fields, needsRestart })),
        dryRun: options.dryRun === true,
      };
      if (options.dryRun) return result;

      const toStop = [...result.removed, ...restarted];
      for (const name of result.removed) {
        const program = set.get(name);
        program?.setRemoving(true);
      }
      // A restart's intent is saved before its stop signal: a daemon killed between the stop and
      // the start leaves the next one to start the program (adopt.ts).
      for (const name of restarted) {
        const program = set.get(name);
        if (program) program.noteIntent("start");
      }
      if (restarted.length > 0) this.host.saved?.();
      if (toStop.length > 0) await this.host.stopAll({ names: toStop }, { wait: "stopped", cause: "config" });
      for (const name of result.removed) {
        set.get(name)?.dispose();
        set.delete(name);
      }
      for (const change of diff.changed) {
        const program = set.get(change.name);
        program?.reconfigure(change.after);
      }
      for (const config of diff.added) this.host.add(config);
      // Config order is the new file's; ad-hoc programs follow, in creation order.
      const ordered = [...programs.map((config) => set.get(config.name)), ...[...set.values()].filter((program) => program.adhoc)];
      set.clear();
      for (const program of ordered) if (program) set.set(program.name, program);
      const { added, changed, removed, unchanged } = result;
      this.host.journal().append("", 0, { kind: "configApplied", added, changed, removed, unchanged, restarted });
      this.host.saved?.();

      const toStart = [...restarted, ...diff.added.filter((config) => config.autostart).map((config) => config.name)];
      if (toStart.length > 0) {
        // Dependents may wait for their dependencies' conditions: that goes on in the background.
        void this.host.startAll({ names: toStart }, { wait: "none" }).catch(() => undefined);
      }
      return result;
    });
  }

  /**
   * CreateProgram: adds an ad-hoc program given as a config file would hold it (validated by the
   * same schema and rules, relative paths beside the daemon's config); start: start it now.
   */
  async create(name: string, input: Record<string, unknown>, options: { start?: boolean } = {}): Promise<ProcessSnapshot> {
    this.requireAdhoc("CreateProgram");
    const config = this.reader.parseProgram(name, input, { source: "CreateProgram", fieldPrefix: "spec", baseDir: this.baseDir });
    this.host.checkFits?.([config], { file: "CreateProgram", fieldOf: (_name, field) => `spec.${field}` });
    // Kept with its cwd made absolute, so the next daemon re-creates the same program wherever its config is.
    const kept = { ...input, cwd: config.cwd };
    return this.serialised(async () => {
      const set = this.host.programs();
      if (set.has(config.name)) throw new AlreadyExistsError("program", config.name);
      const graph = new Map([...set.values()].map((program) => [program.name, Object.keys(program.config.dependsOn ?? {})]));
      graph.set(config.name, Object.keys(config.dependsOn ?? {}));
      const problem = dependencyProblems(graph).find((p) => p.program === config.name);
      if (problem) {
        throw new InvalidArgumentError(
          problem.dependency === undefined ? "depends_on" : `depends_on.${problem.dependency}`,
          problem.dependency ?? config.name,
          problem.rule.replace("of this config", "that exist"),
        );
      }
      const program = this.host.add(config, kept);
      this.host.saved?.();
      // Without dependencies the spawn happens within this call (the reply has its pid: the
      // spawner's fork is waited for); dependents wait in the background.
      if (options.start) void this.host.startAll({ names: [config.name] }, { wait: "none" }).catch(() => undefined);
      await program.run?.spawning;
      return program.snapshot();
    });
  }

  /** DeleteProgram: stops an ad-hoc program (two-stage, like StopProcess), then removes it; its log files stay. */
  async delete(name: string): Promise<ProcessSnapshot> {
    this.requireAdhoc("DeleteProgram");
    return this.serialised(async () => {
      const set = this.host.programs();
      const program = set.get(name);
      if (!program) throw new NotFoundError("program", name);
      if (!program.adhoc) {
        throw new WrongStateError(
          `${name} comes from the config file, not CreateProgram: remove it from the config and apply it (corral apply / reload)`,
          "NOT_ADHOC",
          {
            subject: `program/${name}`,
          },
        );
      }
      program.setRemoving(true);
      const [result] = await this.host.stopAll({ names: [name] }, { wait: "stopped" });
      if (result && !result.ok && result.error) {
        program.setRemoving(false);
        throw new WrongStateError(`${name} not deleted: ${result.error.message}`, "DELETE_FAILED", { subject: `program/${name}` });
      }
      program.dispose();
      set.delete(name);
      this.host.saved?.();
      return program.snapshot();
    });
  }
}
