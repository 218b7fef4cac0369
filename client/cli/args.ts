// Command-line parsing helpers of the `corral` CLI: node:util parseArgs with usage errors,
// durations ("500ms", "10s", "2m"), label selectors ("k=v") and counts.
import { UsageError } from "./usage.js";

/** Runs a parseArgs call and turns its complaints into a UsageError for that command. */
export function parsing<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes and readable messages.
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(error.message.split(". To specify")[0] ?? error.message, command);
    }
    throw error;
  }
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms" | "10s" | "1.5m" | "2h" -> milliseconds. */
export function parseDuration(text: string, option: string, command: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new UsageError(`${option}: "${text}" is not a duration (write it like 500ms, 10s or 2m)`, command);
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2]!]!);
}

/** For commands that take no positional arguments: a usage error naming the first one given. */
export function noPositionals(positionals: string[], command: string): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, command);
}

/** Repeated "KEY=VALUE" option values -> a map; `form` names the shape in the error ("key=value"). */
export function parsePairs(values: string[] | undefined, option: string, command: string, form: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new UsageError(`${option}: "${value}" is not ${form}`, command);
    pairs[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return pairs;
}

/** Repeated "--label k=v" values -> a label map. */
export function parseLabels(values: string[] | undefined, command: string): Record<string, string> {
  return parsePairs(values, "--label", command, "key=value");
}

/** A non-negative integer option value (sequence numbers may exceed 2^53, hence bigint). */
export function parseCount(text: string, option: string, command: string): bigint {
  if (!/^\d+$/.test(text)) throw new UsageError(`${option}: "${text}" is not a non-negative integer`, command);
  return BigInt(text);
}
