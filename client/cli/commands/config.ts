// `corral apply FILE [--dry-run]`, `corral reload [--dry-run]` (live configuration: the diff,
// restarting only what changed) and `corral create NAME -- CMD ARGS...` / `corral delete NAME`
// (ad-hoc programs, when the daemon allows them).
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { create as createMessage } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ApplyConfigResponseSchema, ProcessInfoSchema, RestartPolicy, type ConfigDiff } from "../../ts/index.js";
import { noPositionals, parseCommand, parseDuration, parseLabels, parsePairs } from "../args.js";
import { jsonOut, messageLine } from "../json.js";
import { quick, type CliContext } from "../context.js";
import { UsageError } from "../usage.js";

/** Applying stops removed and changed programs (up to their stop_timeout) before it answers. */
const APPLY_DEADLINE_MS = 120_000;

/** A daemon on a Unix socket shares this host's files: it is given the path, so problems name the file. */
function isLocalAddress(address: string): boolean {
  return address.startsWith("/") || address.startsWith("unix:");
}

export function formatDiff(diff: ConfigDiff | undefined, dryRun: boolean): string {
  const lines: string[] = [];
  const restarted = new Set(diff?.restarted ?? []);
  const changes = new Map((diff?.changes ?? []).map((change) => [change.name, change]));
  const width = Math.max(0, ...[...(diff?.added ?? []), ...(diff?.changed ?? []), ...(diff?.removed ?? [])].map((name) => name.length));
  for (const name of diff?.added ?? []) lines.push(`+ ${name.padEnd(width)}  added`);
  for (const name of diff?.changed ?? []) {
    const fields = changes.get(name)?.fields.join(", ") ?? "";
    const effect = restarted.has(name)
      ? dryRun
        ? " (would restart)"
        : " (restarted)"
      : changes.get(name)?.needsRestart
        ? " (takes effect at its next start)"
        : "";
    lines.push(`~ ${name.padEnd(width)}  changed: ${fields}${effect}`);
  }
  for (const name of diff?.removed ?? []) lines.push(`- ${name.padEnd(width)}  removed${dryRun ? "" : " (stopped)"}`);
  const unchanged = diff?.unchanged ?? [];
  if (unchanged.length > 0) lines.push(`${unchanged.length} unchanged: ${unchanged.join(", ")}`);
  if (lines.length === 0 || lines.length === (unchanged.length > 0 ? 1 : 0)) lines.push("no changes");
  lines.push(dryRun ? "dry run: nothing was changed" : "applied");
  return `${lines.join("\n")}\n`;
}

export async function apply(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("apply", args);
  if (positionals.length !== 1) throw new UsageError("give one config file (or - for standard input)", "apply");
  const file = positionals[0]!;
  const dryRun = values["dry-run"] === true;
  let source: { case: "text"; value: string } | { case: "path"; value: string };
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    source = { case: "text", value: Buffer.concat(chunks).toString("utf8") };
  } else if (values.text || !isLocalAddress(ctx.address)) {
    // A daemon elsewhere cannot read our files: send the text.
    source = { case: "text", value: await readFile(file, "utf8") };
  } else {
    source = { case: "path", value: resolve(file) };
  }
  // Checked here first, as the caller: the daemon does not quote a file it is given by path, and
  // a config without programs would remove every program.
  const text = source.case === "text" ? source.value : await readFile(file, "utf8");
  const { ConfigError, parseConfig } = await import("../../../server/config/fleet-entry.js");
  let programs: number;
  try {
    programs = parseConfig(text, { file: file === "-" ? "<stdin>" : file, baseDir: file === "-" ? process.cwd() : dirname(resolve(file)) }).programs.length;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const count = error.problems.length;
    throw new UsageError(`invalid config, nothing was changed (${count} problem${count === 1 ? "" : "s"}):\n${error.message}`, "apply");
  }
  if (programs === 0 && values["allow-empty"] !== true) {
    throw new UsageError(
      `${file} has no programs: applying it would stop and remove every program of the daemon; pass --allow-empty if that is what you want`,
      "apply",
    );
  }
  const allowEmpty = values["allow-empty"] === true;
  const response = await ctx.client.applyConfig({ source, dryRun, allowEmpty }, { signal: ctx.signal, deadline: APPLY_DEADLINE_MS });
  ctx.out(values.json ? messageLine(ApplyConfigResponseSchema, response) : formatDiff(response.diff, dryRun));
  return 0;
}

export async function reload(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("reload", args);
  noPositionals(positionals, "reload");
  const dryRun = values["dry-run"] === true;
  const response = await ctx.client.reloadConfig({ dryRun }, { signal: ctx.signal, deadline: APPLY_DEADLINE_MS });
  // The same shape as apply's: ReloadConfigResponse and ApplyConfigResponse have the same fields.
  ctx.out(
    values.json
      ? messageLine(ApplyConfigResponseSchema, createMessage(ApplyConfigResponseSchema, { diff: response.diff, dryRun: response.dryRun }))
      : formatDiff(response.diff, dryRun),
  );
  return 0;
}

const RESTART_POLICIES: Record<string, RestartPolicy> = {
  never: RestartPolicy.NEVER,
  "on-failure": RestartPolicy.ON_FAILURE,
  always: RestartPolicy.ALWAYS,
};

export async function create(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("create", args);
  const [name, ...command] = positionals;
  if (name === undefined || command.length === 0) throw new UsageError("give a name and the command after --", "create");
  let autorestart = RestartPolicy.UNSPECIFIED;
  if (values.autorestart !== undefined) {
    const policy = RESTART_POLICIES[values.autorestart];
    if (policy === undefined) throw new UsageError(`--autorestart: "${values.autorestart}" is not never, on-failure or always`, "create");
    autorestart = policy;
  }
  const env = parsePairs(values.env, "--env", "create", "NAME=VALUE");
  const stopTimeoutMs = values["stop-timeout"] === undefined ? undefined : parseDuration(values["stop-timeout"], "--stop-timeout", "create");
  const start = values["no-start"] !== true;
  const { process } = await ctx.client.createProgram(
    {
      spec: {
        name,
        command,
        cwd: values.cwd === undefined ? "" : resolve(values.cwd),
        env,
        labels: parseLabels(values.label, "create"),
        autorestart,
        stopTimeout: stopTimeoutMs === undefined ? undefined : durationFromMs(stopTimeoutMs),
        stdin: values.stdin === true,
        description: values.description ?? "",
      },
      start,
    },
    quick(ctx),
  );
  if (values.json) {
    ctx.out(messageLine(ProcessInfoSchema, process ?? createMessage(ProcessInfoSchema, { name })));
    return 0;
  }
  const pid = process?.run && process.run.pid > 0 ? ` (pid ${process.run.pid})` : "";
  ctx.out(`${name}: created${start ? `, starting${pid}` : ""}\n`);
  return 0;
}

export async function deleteProgram(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("delete", args);
  if (positionals.length === 0) throw new UsageError("name the ad-hoc programs to delete", "delete");
  const deleted: string[] = [];
  try {
    for (const name of positionals) {
      // Stops first (up to the program's stop_timeout), like `corral stop`.
      await ctx.client.deleteProgram({ name }, { signal: ctx.signal, deadline: APPLY_DEADLINE_MS });
      deleted.push(name);
      if (!values.json) ctx.out(`${name}: stopped and deleted\n`);
    }
  } finally {
    // --json: {"deleted": [names]}, also when a later name failed (then exit 1).
    if (values.json) ctx.out(jsonOut({ deleted }));
  }
  return 0;
}
