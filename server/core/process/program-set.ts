// The daemon's programs by name, in config order: each added with what a Program needs of the
// daemon (journal, run ids, logs, spawn log, containment) and its log files created at once;
// found by name (with the error a caller is given) or chosen by a selector (names, labels).
import { closeSync, openSync } from "node:fs";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { resourceError } from "../resource-errors.js";
import { Program, type ProgramDeps } from "./program.js";
import type { ProgramConfig, Selector } from "./types.js";

export class ProgramSet {
  private readonly byName = new Map<string, Program>();

  /** deps: given to every program; read when a program is added (so they may be set up after this set). */
  constructor(private readonly deps: () => ProgramDeps) {}

  /** Every program, in config order, then the ad-hoc ones; live-config.ts changes it (drops, reorders). */
  get map(): Map<string, Program> {
    return this.byName;
  }

  values(): IterableIterator<Program> {
    return this.byName.values();
  }

  get size(): number {
    return this.byName.size;
  }

  /** A program of the config (adhocInput undefined) or an ad-hoc one, replacing one of that name. */
  add(config: ProgramConfig, adhocInput?: Record<string, unknown>): Program {
    const program = new Program(config, this.deps(), adhocInput);
    // The log files exist from the start, so readers and followers can open them at once.
    for (const file of [program.stdout.path, program.stderr.path]) {
      try {
        closeSync(openSync(file, "a", 0o640));
      } catch (error) {
        throw resourceError(error, `program ${config.name}: creating the log file`, file) ?? error;
      }
    }
    this.byName.set(config.name, program);
    return program;
  }

  /** The program by name: InvalidArgumentError for an empty name, NotFoundError for an unknown one. */
  get(name: string): Program {
    if (typeof name !== "string" || name.length === 0) throw new InvalidArgumentError("name", name, "must not be empty");
    const program = this.byName.get(name);
    if (!program) throw new NotFoundError("program", name);
    return program;
  }

  /** The programs a selector names (each name must exist) and whose labels match, in config order. */
  select(selector: Selector = {}): Program[] {
    const labels = Object.entries(selector.matchLabels ?? {});
    const names = selector.names && selector.names.length > 0 ? selector.names : undefined;
    if (names) for (const name of names) this.get(name);
    const wanted = names ? new Set(names) : undefined;
    return [...this.byName.values()].filter((p) => (!wanted || wanted.has(p.name)) && labels.every(([k, v]) => p.config.labels[k] === v));
  }
}
