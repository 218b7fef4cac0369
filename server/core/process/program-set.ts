// The daemon's programs by name, in config order: each added with what a Program needs of the
// daemon (journal, run ids, logs, spawn log, containment), its log files created at once;
// found by name (with the error a caller is given) or chosen by a selector (names, labels).
import { InvalidArgumentError, NotFoundError } from "../errors.js";
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
    // Its log files (stdout, stderr, custom streams) are created at once by the program (program-logs.ts).
    const program = new Program(config, this.deps(), adhocInput);
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
