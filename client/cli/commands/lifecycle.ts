// `corral start|stop|restart|signal`: one call per named program, or one bulk call (StartAll /
// StopAll) for --all or a label selector, with a per-program results table (--json: a JSON
// array of ProgramResult objects, the same for named programs and bulk calls).
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ClientError, Status } from "nice-grpc";
import {
  ProcessInfoSchema,
  ProcessState,
  ProcessView,
  ProgramResultSchema,
  ShutdownHow,
  StartWait,
  StopWait,
  type ProcessInfo,
  type ProgramResult,
  type ShutdownResult,
} from "../../ts/index.js";
import { parseCommand, parseDuration, parseLabels } from "../args.js";
import { open, quick, type CliContext } from "../context.js";
import { codeName, describeCallError, isUnavailable } from "../errors.js";
import { formatTable, isAlive, stateName } from "../format.js";
import { jsonOut, messageLine, toCliJson } from "../json.js";
import { withProgress } from "../progress.js";
import { programHint } from "../hints.js";
import { UsageError } from "../usage.js";

/** Extra time the CLI gives the daemon past --timeout, so the daemon's own answer arrives first. */
const DEADLINE_MARGIN_MS = 5_000;

interface BulkOptions {
  names: string[];
  all: boolean;
  matchLabels: Record<string, string>;
  wait: boolean;
  /** start --ready: wait until the readiness probe passes (RUNNING when there is none). */
  ready: boolean;
  /** stop --sequential: one program at a time within a dependency level. */
  sequential: boolean;
  timeoutMs: number | undefined;
  json: boolean;
}

function parseBulk(command: "start" | "stop", args: string[]): BulkOptions {
  const { values, positionals } = parseCommand(command, args);
  const matchLabels = parseLabels(values.label, command);
  const all = values.all === true;
  if (all && positionals.length > 0) throw new UsageError("give program names or --all, not both", command);
  if (!all && positionals.length === 0 && Object.keys(matchLabels).length === 0) {
    throw new UsageError("name the programs, or use --all (or --label k=v)", command);
  }
  return {
    names: positionals,
    all,
    matchLabels,
    wait: values["no-wait"] !== true,
    ready: "ready" in values && values.ready === true,
    sequential: "sequential" in values && values.sequential === true,
    timeoutMs: values.timeout === undefined ? undefined : parseDuration(values.timeout, "--timeout", command),
    json: values.json === true,
  };
}

/** Neither --all nor a label selector: one call per named program rather than a bulk call. */
function isBulk(options: BulkOptions): boolean {
  return options.all || Object.keys(options.matchLabels).length > 0;
}

/** --timeout for the daemon, and a call deadline a little past it so the daemon's own answer arrives first. */
export function timeoutOptions(ctx: Pick<CliContext, "signal">, timeoutMs: number | undefined) {
  return timeoutMs === undefined
    ? { timeout: undefined, callOptions: open(ctx) }
    : { timeout: durationFromMs(timeoutMs), callOptions: open(ctx, timeoutMs + DEADLINE_MARGIN_MS) };
}

/** What `start` waits for: nothing (--no-wait), the readiness probe (--ready), else RUNNING. */
export function startWait(wait: boolean, ready: boolean): StartWait {
  return !wait ? StartWait.NONE : ready ? StartWait.READY : StartWait.RUNNING;
}

/** Exit code of `corral stop` when nothing failed but a program was not running (nothing was stopped). */
export const EXIT_NOT_RUNNING = 3;

/** What one named program's call came to: done, failed (exit 1) or not running (exit 3 unless something failed). */
interface NamedOutcome {
  done: boolean | "not_running";
  result: ProgramResult;
}

/**
 * One call per named program; a program's failure is reported and the rest still go; 1 if any
 * failed. With json, nothing is printed per program: one array of results at the end.
 */
async function eachProgram(ctx: CliContext, names: string[], json: boolean, act: (name: string) => Promise<NamedOutcome>): Promise<number> {
  let exitCode = 0;
  const results: ProgramResult[] = [];
  for (const name of names) {
    try {
      const { done, result } = await act(name);
      results.push(result);
      if (done === false) exitCode = 1;
      else if (done === "not_running" && exitCode === 0) exitCode = EXIT_NOT_RUNNING;
    } catch (error) {
      if (!json) await reportFailure(ctx, error, name);
      else if (error instanceof ClientError && error.code !== Status.UNAVAILABLE) {
        results.push(create(ProgramResultSchema, { name, ok: false, code: error.code, error: error.details }));
      } else throw error;
      exitCode = 1;
    }
  }
  if (json) ctx.out(jsonOut(results.map((r) => toCliJson(ProgramResultSchema, r))));
  return exitCode;
}

function okResult(name: string, process: ProcessInfo | undefined, extra: Partial<Pick<ProgramResult, "note" | "shutdown">> = {}): ProgramResult {
  return create(ProgramResultSchema, { name, ok: true, process, ...extra });
}

function failedResult(name: string, process: ProcessInfo | undefined, error: string): ProgramResult {
  return create(ProgramResultSchema, { name, ok: false, code: Status.FAILED_PRECONDITION, error, process });
}

/** The DETAIL of a stop: how it went (soft, hard, survivors), or that the program was not running. */
function shutdownDetail(shutdown: ShutdownResult | undefined): string {
  if (!shutdown) return "";
  switch (shutdown.how) {
    case ShutdownHow.NOT_RUNNING:
      return "was not running";
    case ShutdownHow.SOFT:
      return `pid ${shutdown.pid}: stopped`;
    case ShutdownHow.HARD:
      return `pid ${shutdown.pid}: killed (SIGKILL after stop_timeout)`;
    case ShutdownHow.SURVIVORS:
      return `pid ${shutdown.pid}: survivors after SIGKILL: ${shutdown.survivors.join(", ")}`;
    case ShutdownHow.PENDING:
      return `pid ${shutdown.pid}: stopping`;
    default:
      return "";
  }
}

function notStarted(name: string, process: ProcessInfo | undefined): string {
  const state = stateName(process?.state ?? ProcessState.UNSPECIFIED);
  return `corral: ${name}: not started: ${state}${process?.stateReason ? ` (${process.stateReason})` : ""}\n`;
}

/** "pid N" for a live process, else "". */
export function pidOf(process: ProcessInfo | undefined): string {
  return process?.run && isAlive(process.state) ? `pid ${process.run.pid}` : "";
}

/** Prints one program's failure (with "did you mean" for an unknown name); an unreachable daemon aborts the whole command. */
async function reportFailure(ctx: CliContext, error: unknown, name: string): Promise<void> {
  if (isUnavailable(error)) throw error;
  const line = describeCallError(error, ctx.address);
  if (line === undefined) throw error;
  ctx.err(`corral: ${line}${await programHint(ctx, error, name)}\n`);
}

function printResults(ctx: CliContext, results: ProgramResult[], stopping: boolean, json: boolean): number {
  if (json) ctx.out(jsonOut(results.map((r) => toCliJson(ProgramResultSchema, r))));
  if (results.length === 0) {
    if (!json) ctx.err("no programs matched\n");
    return 0;
  }
  if (json) return resultsExitCode(results, stopping);
  const rows = results.map((r) => [
    r.name,
    r.ok ? "ok" : "FAILED",
    r.process ? stateName(r.process.state) : "-",
    r.ok ? r.note || (stopping ? shutdownDetail(r.shutdown) : pidOf(r.process)) : `${codeName(r.code)}: ${r.error}`,
  ]);
  ctx.out(formatTable(["NAME", "RESULT", "STATE", "DETAIL"], rows));
  return resultsExitCode(results, stopping);
}

function resultsExitCode(results: ProgramResult[], stopping: boolean): number {
  if (!results.every((r) => r.ok)) return 1;
  // Stop-all of programs none of which was running: nothing was stopped (exit 3, as for named ones).
  if (stopping && results.every((r) => r.shutdown?.how === ShutdownHow.NOT_RUNNING)) return EXIT_NOT_RUNNING;
  return 0;
}

export async function start(ctx: CliContext, args: string[]): Promise<number> {
  const options = parseBulk("start", args);
  if (options.ready && !options.wait) throw new UsageError("--ready waits; it cannot go with --no-wait", "start");
  const wait = startWait(options.wait, options.ready);
  const { timeout, callOptions } = timeoutOptions(ctx, options.timeoutMs);

  if (!isBulk(options)) {
    return eachProgram(ctx, options.names, options.json, async (name) => {
      const { process } = await ctx.client.startProcess({ name, wait, timeout }, callOptions);
      const state = process?.state ?? ProcessState.UNSPECIFIED;
      if ((state === ProcessState.RUNNING && (!options.ready || process?.ready)) || (!options.wait && state !== ProcessState.FATAL)) {
        const word = !options.wait ? "starting" : options.ready ? "started and ready" : "started";
        if (!options.json) ctx.out(`${name}: ${word}${process?.run ? ` (pid ${process.run.pid})` : ""}\n`);
        return { done: true, result: okResult(name, process) };
      }
      const why = notStarted(name, process);
      if (!options.json) ctx.err(why);
      return { done: false, result: failedResult(name, process, why.replace(/^corral: [^:]+: /, "").trimEnd()) };
    });
  }

  const selector = { matchLabels: options.matchLabels, names: options.names };
  const startedStates = options.wait ? [ProcessState.RUNNING] : [ProcessState.STARTING, ProcessState.RUNNING];
  const { results } = await withProgress(
    ctx,
    {
      verb: "starting",
      selector,
      done: (s) => startedStates.includes(s) || s === ProcessState.FATAL,
      begun: { state: ProcessState.STARTING, word: "spawned" },
    },
    () => ctx.client.startAll({ selector, wait, timeout, view: options.json ? ProcessView.UNSPECIFIED : ProcessView.BASIC }, callOptions),
  );
  return printResults(ctx, results, false, options.json);
}

export async function stop(ctx: CliContext, args: string[]): Promise<number> {
  const options = parseBulk("stop", args);
  const wait = options.wait ? StopWait.STOPPED : StopWait.NONE;
  const { timeout, callOptions } = timeoutOptions(ctx, options.timeoutMs);

  if (!isBulk(options)) {
    return eachProgram(ctx, options.names, options.json, async (name) => {
      const { process, survivors, shutdown } = await ctx.client.stopProcess({ name, wait, timeout }, callOptions);
      if (survivors.length > 0) {
        const why = `stopped, but these members of its group survived SIGKILL: ${survivors.join(", ")}`;
        if (!options.json) ctx.err(`corral: ${name}: ${why}\n`);
        return { done: false, result: create(ProgramResultSchema, { ...failedResult(name, process, why), shutdown }) };
      }
      if (shutdown?.how === ShutdownHow.NOT_RUNNING) {
        if (!options.json) ctx.out(`${name}: was not running (nothing stopped)\n`);
        return { done: "not_running", result: okResult(name, process, { shutdown }) };
      }
      const how = shutdown?.how === ShutdownHow.HARD ? " (killed: SIGKILL after stop_timeout)" : "";
      if (!options.json) ctx.out(`${name}: ${options.wait ? "stopped" : "stopping"}${shutdown?.pid ? ` (pid ${shutdown.pid})` : ""}${how}\n`);
      return { done: true, result: okResult(name, process, shutdown ? { shutdown } : {}) };
    });
  }

  const selector = { matchLabels: options.matchLabels, names: options.names };
  const stoppedStates = [ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL];
  if (!options.wait) stoppedStates.push(ProcessState.STOPPING);
  const { results } = await withProgress(
    ctx,
    {
      verb: "stopping",
      selector,
      done: (s) => stoppedStates.includes(s),
      begun: { state: ProcessState.STOPPING, word: "signalled" },
    },
    () =>
      ctx.client.stopAll(
        { selector, wait, timeout, view: options.json ? ProcessView.UNSPECIFIED : ProcessView.BASIC, ...(options.sequential ? { sequential: true } : {}) },
        callOptions,
      ),
  );
  return printResults(ctx, results, true, options.json);
}

export async function restart(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("restart", args);
  if (positionals.length !== 1) throw new UsageError("name one program to restart", "restart");
  const name = positionals[0]!;
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, "--timeout", "restart");
  const wait = values["no-wait"] ? StartWait.NONE : StartWait.RUNNING;
  const { timeout, callOptions } = timeoutOptions(ctx, timeoutMs);
  const { process } = await ctx.client.restartProcess({ name, wait, timeout }, callOptions);
  const state = process?.state ?? ProcessState.UNSPECIFIED;
  const failed = wait === StartWait.RUNNING && state !== ProcessState.RUNNING;
  if (values.json) ctx.out(messageLine(ProcessInfoSchema, process ?? create(ProcessInfoSchema, { name })));
  else if (failed) ctx.err(notStarted(name, process));
  else ctx.out(`${name}: restarted${process?.run ? ` (pid ${process.run.pid})` : ""}\n`);
  return failed ? 1 : 0;
}

export async function signal(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("signal", args);
  if (positionals.length !== 2) throw new UsageError("give a program name and a signal (e.g. HUP)", "signal");
  const [name, signalName] = positionals as [string, string];
  const group = values.group === true;
  const { process } = await ctx.client.signalProcess({ name, signal: signalName, group }, quick(ctx));
  if (values.json) {
    ctx.out(messageLine(ProcessInfoSchema, process ?? create(ProcessInfoSchema, { name })));
    return 0;
  }
  const pid = process?.run?.pid;
  const target = pid === undefined ? "" : group ? ` to process group ${pid}` : ` to pid ${pid}`;
  ctx.out(`${name}: sent ${signalName}${target}\n`);
  return 0;
}
