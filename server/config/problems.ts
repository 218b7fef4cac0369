// A config that cannot be used, in words: each problem names the file, line, column, field and
// the rule it broke; zod's own checks get rule text in the same voice as the schema's.
import type { z } from "zod";
import { describeValue } from "./values.js";

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the key, e.g. "programs.db.startsecs"; "" for YAML syntax errors. */
  field: string;
  rule: string;
  value?: unknown;
}

export function formatConfigProblem(problem: ConfigProblem): string {
  const position = problem.line === undefined ? "" : `:${problem.line}:${problem.column ?? 1}`;
  const field = problem.field === "" ? "" : `${problem.field}: `;
  return `${problem.file}${position}: ${field}${problem.rule}`;
}

/** A config that cannot be used; `problems` lists all of them, the message one per line. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatConfigProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Rule text for zod's own checks, in the same voice as the schema's custom rules. */
export function ruleFor(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      return `expected ${expectedName(issue.expected)}, got ${describeValue(issue.input)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => String(value)).join(", ")}; got ${describeValue(issue.input)}`;
    case "too_small":
      if (issue.origin === "array") return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === "string") return "must not be empty";
      return `must be >= ${issue.minimum}`;
    case "too_big":
      return `must be <= ${issue.maximum}`;
    case "invalid_key":
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
}

function expectedName(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    record: "a mapping",
    array: "a list",
  };
  return names[expected] ?? expected;
}
