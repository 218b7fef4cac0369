// Command-line parsing of the `corral` CLI: node:util parseArgs driven by the one definition in
// spec.ts (so an unknown option gets "did you mean"), durations in the config's grammar
// (server/core/duration.ts), label selectors ("k=v") and counts.
import { parseArgs } from "node:util";
import { DURATION_HINT, durationWordToMs } from "../../server/core/duration.js";
import { MAX_DURATION_MS } from "../../server/core/limits.js";
import { COMMANDS, GLOBAL_OPTIONS, type CommandName, type OptionSpec } from "./spec.js";
import { didYouMean } from "./suggest.js";
import { UsageError } from "./usage.js";

/** The values parseArgs gives for a spec's options: strings, booleans and repeated strings by name. */
type Values<Options extends Readonly<Record<string, OptionSpec>>> = {
  -readonly [Name in keyof Options]?: Options[Name] extends { type: "boolean" } ? boolean : Options[Name] extends { multiple: true } ? string[] : string;
};

export interface Parsed<Options extends Readonly<Record<string, OptionSpec>>> {
  values: Values<Options>;
  positionals: string[];
  /** Indexes in args of the positional words (to pass the options on without them). */
  positionalIndexes: Set<number>;
}

/** An unknown "--opt": say so, with the closest options this command (or any command, globally) takes. */
function unknownOption(message: string, known: Readonly<Record<string, OptionSpec>>, command: string): UsageError {
  const typed = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (typed === undefined) return new UsageError(message.split(". To specify")[0] ?? message, command);
  const names = [...Object.keys(known), ...Object.keys(GLOBAL_OPTIONS)].map((name) => `--${name}`);
  return new UsageError(`unknown option "${typed}"${didYouMean(typed.split("=")[0]!, names)}`, command);
}

/** Parses a command's (or a subcommand's) arguments by its options in spec.ts; usage errors name `label`. */
export function parseOptions<const Options extends Readonly<Record<string, OptionSpec>>>(options: Options, args: string[], label: string): Parsed<Options> {
  try {
    // parseArgs ignores the keys it does not know (description, value, complete).
    const { values, positionals, tokens } = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
    const positionalIndexes = new Set(tokens.filter((token) => token.kind === "positional").map((token) => token.index));
    return { values: values as Values<Options>, positionals, positionalIndexes };
  } catch (error) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes and readable messages.
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      throw unknownOption(error.message, options, label);
    }
    throw error;
  }
}

/** parseOptions for a command of spec.ts. */
export function parseCommand<const Name extends CommandName>(command: Name, args: string[]): Parsed<(typeof COMMANDS)[Name]["options"]> {
  return parseOptions(COMMANDS[command].options, args, command);
}

/** "500ms" | "10s" | "1m30s" | "2h" | "30" (seconds) -> milliseconds: the config's grammar. */
export function parseDuration(text: string, option: string, command: string): number {
  const ms = durationWordToMs(text);
  if (ms === undefined) throw new UsageError(`${option}: "${text}" is not a duration (${DURATION_HINT})`, command);
  if (ms > MAX_DURATION_MS) throw new UsageError(`${option}: "${text}" is too long (at most 596h)`, command);
  return ms;
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
