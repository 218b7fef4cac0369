// `corral check FILE` (validate a config with no daemon: every problem with file:line:col, the
// dependency graph included, and what this host cannot give: limits, users; exit 0 or 2) and
// `corral init [FILE]` (write the built-in example).
// Both load the server's config code lazily (bundled on its own, like multi-host mode).
import { writeFile } from "node:fs/promises";
import { parseCommand } from "../args.js";
import { jsonOut } from "../json.js";
import { UsageError } from "../usage.js";

/** Exit code of a config with problems: the same as a bad command line (the input is wrong). */
const INVALID_EXIT = 2;

const configCode = () => import("../../../server/config/fleet-entry.js");

export async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("check", args);
  if (positionals.length === 0) throw new UsageError("give one or more config files", "check");
  const { ConfigError, loadConfigFile, checkConfigFitsHost } = await configCode();
  let failed = false;
  for (const file of positionals) {
    try {
      const config = await loadConfigFile(file);
      // Limits and users as this host can give them (the daemon checks the same at load).
      checkConfigFitsHost(config, file);
      const hosts = config.hosts.length > 0 ? `, ${config.hosts.length} host(s)` : "";
      // --json: one object per file: {file, ok, programs, hosts, problems: [{file, line, column, field, rule}]}.
      if (values.json) process.stdout.write(jsonOut({ file, ok: true, programs: config.programs.length, hosts: config.hosts.length, problems: [] }));
      else if (!values.quiet) process.stdout.write(`${file}: ok (${config.programs.length} program(s)${hosts})\n`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      failed = true;
      if (values.json) {
        const problems = error.problems.map((p) => ({ file: p.file ?? file, line: p.line ?? null, column: p.column ?? null, field: p.field, rule: p.rule }));
        process.stdout.write(jsonOut({ file, ok: false, programs: null, hosts: null, problems }));
        continue;
      }
      process.stderr.write(`${error.message}\n`);
      const count = error.problems.length;
      process.stderr.write(`${file}: ${count} problem${count === 1 ? "" : "s"}\n`);
    }
  }
  return failed ? INVALID_EXIT : 0;
}

export async function init(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("init", args);
  if (positionals.length > 1) throw new UsageError("give at most one file (default corral.yaml; - for standard output)", "init");
  const file = positionals[0] ?? "corral.yaml";
  const { EXAMPLE_CONFIG_YAML } = await configCode();
  if (file === "-") {
    process.stdout.write(EXAMPLE_CONFIG_YAML);
    return 0;
  }
  try {
    // "wx": never overwrite someone's config by accident.
    await writeFile(file, EXAMPLE_CONFIG_YAML, { flag: values.force ? "w" : "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${file} exists; pass --force to overwrite it`);
    throw error;
  }
  process.stdout.write(`wrote ${file}: edit it, check it with \`corral check ${file}\`, run it with \`corral server --config ${file}\`\n`);
  return 0;
}
