// What a bench row is: a name, a goal, and a measure function that returns corral's figure and
// its baseline (the bare-Node limit doing the same work) measured in the same run.
import type { BenchContext } from "./context.js";

export type Unit = "ms" | "s" | "MB" | "%" | "fds" | "x";

export interface Measurement {
  corral: number;
  /** The same work done by the limit (bare Node, a plain /proc pass, ...), measured in this run. */
  baseline?: number;
  unit: Unit;
  /** Shown after the figures: sample sizes, spread, secondary figures. */
  detail?: string;
}

export interface Goal {
  /** As printed in the table, e.g. "≤ 0.2 s" or "≤ 1.2× baseline". */
  text: string;
  pass(m: Measurement): boolean;
}

export interface BenchRow {
  /** As printed in the table; unique (`--only` matches it by substring). */
  name: string;
  /** What the baseline column is, e.g. "bare node spawn". */
  baseline: string;
  goal: Goal;
  measure(ctx: BenchContext): Promise<Measurement>;
  /** Rows of `--scale` only, or of the normal table only (default). */
  scale?: boolean;
}

/** Seconds or milliseconds in the unit given; the goal's limit in the same unit. */
export function atMost(limit: number, unit: Unit): Goal {
  return { text: `≤ ${limit} ${unit}`, pass: (m) => m.corral <= limit };
}

/** corral ≤ factor × baseline. */
export function ratioAtMost(factor: number): Goal {
  return { text: `≤ ${factor}× baseline`, pass: (m) => m.baseline !== undefined && m.corral <= factor * m.baseline };
}

/** No goal: the row is shown for information (e.g. a scaling figure). */
export const informational: Goal = { text: "-", pass: () => true };
