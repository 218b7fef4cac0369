// A config that cannot be used, as a domain error: each problem names the file, line, column,
// field and the rule it broke. server/config finds the problems; rpc maps them to BadRequest.
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
