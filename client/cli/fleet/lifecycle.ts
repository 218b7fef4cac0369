// start / stop / restart / signal / logs across hosts. Named programs go to their host (the
// config's `host`, or the daemons that list an unconfigured name as their own) through the
// one-host commands; --all and --label go to every host in scope: start in config order of
// hosts, stop in reverse (each daemon stops its own programs in reverse dependency order).
// Hosts that do not answer within the deadline are reported per program; the rest still act.
import { StopWait, type ProgramResult } from "../../ts/index.js";
import { HostUnreachableError } from "../../ts/hosts.js";
import { parseDuration, parseLabels, parseOptions } from "../args.js";
import { COMMANDS, type OptionSpec } from "../spec.js";
import type { CliContext } from "../context.js";
import { codeName, describeCallError } from "../errors.js";
import { formatTable, stateName } from "../format.js";
import { UsageError } from "../usage.js";
import { logs } from "../commands/logs.js";
import { pidOf, restart, signal, start, startWait, stop, timeoutOptions } from "../commands/lifecycle.js";
import type { FleetContext } from "./context.js";

type OneHostCommand = (ctx: CliContext, args: string[]) => Promise<number>;

/** The commands' own options (spec.ts): the same as with one daemon. */
const OPTIONS: Record<string, Readonly<Record<string, OptionSpec>>> = {
  start: COMMANDS.start.options,
  stop: COMMANDS.stop.options,
  restart: COMMANDS.restart.options,
  signal: COMMANDS.signal.options,
  logs: COMMANDS.logs.options,
};
const ONE_HOST: Record<string, OneHostCommand> = { start, stop, restart, signal, logs };

/** The command's positionals, and its arguments without them (to pass on with other names). */
function split(command: string, args: string[]) {
  const { values, positionals, positionalIndexes } = parseOptions(OPTIONS[command]!, args, command);
  const optionArgs = args.filter((_, index) => !positionalIndexes.has(index));
  return { values: values as Record<string, string | boolean | string[] | undefined>, positionals, optionArgs };
}

function failureLine(error: unknown, address: string): string | undefined {
  if (error instanceof HostUnreachableError) return error.message;
  return describeCallError(error, address);
}

/** Runs a one-host command on `host`; a host that does not answer is reported for `names`. */
async function onHost(ctx: FleetContext, host: string, names: string[], run: (hostCtx: CliContext) => Promise<number>): Promise<number> {
  const hostCtx = ctx.forHost(host);
  try {
    return await run(hostCtx);
  } catch (error) {
    const line = failureLine(ctx.fleet.asHostError(host, error), hostCtx.address);
    if (line === undefined) throw error;
    for (const name of names) ctx.err(`corral: ${name}: ${line}\n`);
    return 1;
  }
}

/** Groups names by the hosts (in scope) that run them; names found nowhere are reported. */
async function route(ctx: FleetContext, names: string[]): Promise<{ byHost: Map<string, string[]>; failed: boolean }> {
  const byHost = new Map<string, string[]>(ctx.scope.map((host) => [host, []]));
  let failed = false;
  for (const name of names) {
    const { hosts, unreachable } = await ctx.fleet.locate(name, ctx.signal);
    const inScope = hosts.filter((host) => ctx.scope.includes(host));
    for (const host of inScope) byHost.get(host)!.push(name);
    if (inScope.length === 0) {
      failed = true;
      const where = unreachable.length > 0 ? ` (${unreachable.map((error) => error.message).join("; ")})` : "";
      ctx.err(`corral: ${name}: NOT_FOUND: no host in scope (${ctx.scope.join(", ")}) runs a program of this name${where}\n`);
    }
  }
  for (const [host, list] of byHost) if (list.length === 0) byHost.delete(host);
  return { byHost, failed };
}

/** start|stop|restart|signal|logs NAME... on each program's host. */
async function named(
  ctx: FleetContext,
  command: string,
  names: string[],
  argsFor: (names: string[]) => string[],
  routed?: { byHost: Map<string, string[]>; failed: boolean },
): Promise<number> {
  const { byHost, failed } = routed ?? (await route(ctx, names));
  let exitCode = failed ? 1 : 0;
  const hosts = [...byHost.keys()];
  if (command === "stop") hosts.reverse();
  const reachable = await ctx.fleet.reachable(hosts, ctx.signal);
  for (const host of hosts) {
    const hostNames = byHost.get(host)!;
    const answer = reachable.find((result) => result.host === host)!;
    if (!answer.ok) {
      for (const name of hostNames) ctx.err(`corral: ${name}: ${answer.error.message}\n`);
      exitCode = 1;
      continue;
    }
    if ((await onHost(ctx, host, hostNames, (hostCtx) => ONE_HOST[command]!(hostCtx, argsFor(hostNames)))) !== 0) exitCode = 1;
  }
  return exitCode;
}

type ResultRow = [name: string, host: string, result: string, state: string, detail: string];

function resultRow(host: string, r: ProgramResult): ResultRow {
  return [
    r.name,
    host,
    r.ok ? "ok" : "FAILED",
    r.process ? stateName(r.process.state) : "-",
    r.ok ? r.note || pidOf(r.process) : `${codeName(r.code)}: ${r.error}`,
  ];
}

/** start|stop --all / --label on every host in scope, one table with a HOST column. */
async function bulk(ctx: FleetContext, command: "start" | "stop", values: Record<string, string | boolean | string[] | undefined>): Promise<number> {
  const matchLabels = parseLabels(values.label as string[] | undefined, command);
  const timeoutMs = typeof values.timeout === "string" ? parseDuration(values.timeout, "--timeout", command) : undefined;
  const wait = values["no-wait"] !== true;
  if (values.ready === true && !wait) throw new UsageError("--ready waits; it cannot go with --no-wait", "start");
  const { timeout, callOptions } = timeoutOptions(ctx, timeoutMs);
  const selector = { matchLabels, names: [] };

  const hosts = [...ctx.scope];
  if (command === "stop") hosts.reverse();
  const reachable = await ctx.fleet.reachable(hosts, ctx.signal);
  const rows: ResultRow[] = [];
  let exitCode = 0;
  const unreachableRows = (host: string, error: Error) => {
    exitCode = 1;
    const programs = Object.keys(matchLabels).length === 0 ? ctx.fleet.programsOn(host) : [];
    if (programs.length === 0) rows.push(["-", host, "FAILED", "-", error.message]);
    for (const name of programs) rows.push([name, host, "FAILED", "UNKNOWN", error.message]);
  };
  // One host after the other: a later host's programs may need an earlier host's (QMI's order).
  for (const host of hosts) {
    const answer = reachable.find((result) => result.host === host)!;
    if (!answer.ok) {
      unreachableRows(host, answer.error);
      continue;
    }
    try {
      const { processManager } = ctx.fleet.client(host);
      const { results } =
        command === "start"
          ? await processManager.startAll({ selector, wait: startWait(wait, values.ready === true), timeout }, callOptions)
          : await processManager.stopAll({ selector, wait: wait ? StopWait.STOPPED : StopWait.NONE, timeout }, callOptions);
      for (const result of results) {
        // A daemon answers for the other hosts' programs too ("remote: runs on host ..."): their own host reports them.
        if (result.process?.remote) continue;
        rows.push(resultRow(host, result));
        if (!result.ok) exitCode = 1;
      }
    } catch (error) {
      const hostError = ctx.fleet.asHostError(host, error, timeoutMs);
      if (hostError instanceof HostUnreachableError) unreachableRows(host, hostError);
      else {
        exitCode = 1;
        rows.push(["-", host, "FAILED", "-", failureLine(error, host) ?? hostError.message]);
      }
    }
  }
  if (rows.length === 0) ctx.err("no programs matched\n");
  else ctx.out(formatTable(["NAME", "HOST", "RESULT", "STATE", "DETAIL"], rows));
  return exitCode;
}

/**
 * `corral logs` with no name across hosts: every host in scope follows its own programs (the
 * one-host command, FollowLogs all_programs), each line prefixed by its host (a "host" key in
 * --json). A host that cannot be reached is reported and makes the exit code 1; the others go on.
 */
async function everyHostsLogs(ctx: FleetContext, args: string[], json: boolean): Promise<number> {
  const width = Math.max(...ctx.scope.map((host) => host.length));
  const reachable = await ctx.fleet.reachable(ctx.scope, ctx.signal);
  let exitCode = 0;
  await Promise.all(
    ctx.scope.map(async (host) => {
      const answer = reachable.find((result) => result.host === host)!;
      if (!answer.ok) {
        ctx.err(`corral: ${answer.error.message}\n`);
        exitCode = 1;
        return;
      }
      // The one-host command writes one line (or one JSON object) per call.
      const tag = (data: string | Uint8Array) => {
        const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
        return json && text.startsWith("{") ? `{"host":${JSON.stringify(host)},${text.slice(1)}` : `${host.padEnd(width)} ${text}`;
      };
      const hostCtx = ctx.forHost(host);
      try {
        if ((await logs({ ...hostCtx, out: (data) => ctx.out(tag(data)), err: (data) => ctx.err(tag(data)) }, args)) !== 0) exitCode = 1;
      } catch (error) {
        const line = failureLine(error, host);
        if (line === undefined) throw error;
        ctx.err(`corral: ${host}: ${line}\n`);
        exitCode = 1;
      }
    }),
  );
  return exitCode;
}

export function fleetLifecycle(command: "start" | "stop" | "restart" | "signal" | "logs") {
  return async (ctx: FleetContext, args: string[]): Promise<number> => {
    const { values, positionals, optionArgs } = split(command, args);
    if (command === "start" || command === "stop") {
      const all = values.all === true;
      const labels = (values.label as string[] | undefined) ?? [];
      if (all && positionals.length > 0) throw new UsageError("give program names or --all, not both", command);
      if (all || (positionals.length === 0 && labels.length > 0)) return bulk(ctx, command, values);
      if (positionals.length === 0) throw new UsageError("name the programs, or use --all (or --label k=v)", command);
      return named(ctx, command, positionals, (names) => [...optionArgs, ...names]);
    }
    if (command === "signal") {
      if (positionals.length !== 2) throw new UsageError("give a program name and a signal (e.g. HUP)", "signal");
      const [name, signalName] = positionals as [string, string];
      return named(ctx, command, [name], () => [...optionArgs, name, signalName]);
    }
    if (command === "logs" && positionals.length === 0) return everyHostsLogs(ctx, optionArgs, values.json === true);
    if (positionals.length !== 1)
      throw new UsageError(command === "logs" ? "name one program (or none: every program)" : "name one program to restart", command);
    const name = positionals[0]!;
    if (command === "logs") {
      const routed = await route(ctx, [name]);
      const inScope = [...routed.byHost.keys()];
      if (inScope.length > 1) throw new UsageError(`${name} runs on several hosts (${inScope.join(", ")}): say which with --host NAME or --local`, "logs");
      return named(ctx, command, [name], () => [...optionArgs, name], routed);
    }
    return named(ctx, command, [name], () => [...optionArgs, name]);
  };
}
