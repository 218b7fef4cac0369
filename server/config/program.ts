// One program validated on its own (CreateProgram's spec), by the same schema and rules as a
// program of the config file, so an ad-hoc program can be nothing a config could not be.
import { PROGRAM_NAME_PATTERN, PROGRAM_NAME_RULE } from "./values.js";
import type { ProgramConfig } from "../core/process/types.js";
import { programConfig, programSchema } from "./program-schema.js";
import { ConfigError, ruleFor, type ConfigProblem } from "./problems.js";

export interface ParseProgramOptions {
  /** Names the source in problems (e.g. "CreateProgram"). */
  source: string;
  /** Prefix of field names in problems (e.g. "spec"): problems then read "spec.startsecs". */
  fieldPrefix: string;
  /** Directory a relative (or absent) cwd is resolved against. */
  baseDir: string;
}

/**
 * Validates a program given as the config file would hold it (snake_case keys, durations like
 * "500ms"), and returns it as the core's ProgramConfig; throws a ConfigError with every problem.
 */
export function parseProgram(name: string, input: Record<string, unknown>, options: ParseProgramOptions): ProgramConfig {
  const problems: ConfigProblem[] = [];
  const field = (path: readonly PropertyKey[]) => [options.fieldPrefix, ...path.map(String)].filter((part) => part !== "").join(".");
  if (!PROGRAM_NAME_PATTERN.test(name)) {
    problems.push({ file: options.source, field: field(["name"]), rule: PROGRAM_NAME_RULE, value: name });
  }
  const result = programSchema.safeParse(input, { error: ruleFor, reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) problems.push({ file: options.source, field: field([...issue.path, key]), rule: issue.message });
      } else {
        problems.push({ file: options.source, field: field(issue.path), rule: issue.message, value: issue.input });
      }
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return programConfig(name, result.data, options.baseDir);
}
