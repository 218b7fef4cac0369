// A config that cannot be used, in words: each problem names the file, line, column, field and
// the rule it broke; zod's own checks get rule text in the same voice as the schema's.
import type { z } from "zod";
import { describeValue } from "./values.js";

export { ConfigError, formatConfigProblem, type ConfigProblem } from "../core/config-error.js";

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
