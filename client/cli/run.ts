// Runs one client-side `corral` command against the daemon: connects, wires Ctrl-C to an
// AbortSignal, and turns failures into "corral: ..." lines and exit codes.
import { connect, type ConnectOptions, type CorralClient } from "../ts/index.js";
import { events } from "./commands/events.js";
import { info, shutdown } from "./commands/daemon.js";
import { restart, signal, start, stop } from "./commands/lifecycle.js";
import { logs } from "./commands/logs.js";
import { status } from "./commands/status.js";
import { ps, run as runMonitored, stats, zombies } from "./commands/monitor.js";
import { top } from "./commands/top.js";
import { send } from "./commands/stdin.js";
import { deps } from "./commands/deps.js";
import { apply, create, deleteProgram, reload } from "./commands/config.js";
import { task } from "./commands/task.js";
import { isAbortError, type CliContext } from "./context.js";
import { describeCallError } from "./errors.js";
import { programHint } from "./hints.js";
import { displayAddress } from "./format.js";

export type Command = (ctx: CliContext, args: string[]) => Promise<number>;

export const CLIENT_COMMANDS: Record<string, Command> = {
  status,
  start,
  stop,
  restart,
  signal,
  logs,
  events,
  info,
  shutdown,
  send,
  deps,
  apply,
  reload,
  create,
  delete: deleteProgram,
  stats,
  top,
  ps,
  zombies,
  run: runMonitored,
  task,
};

/** Raw terminal input, one key per listener call, until the returned function restores the terminal. */
function onKey(listener: (key: string) => void): () => void {
  const stdin = process.stdin;
  const onData = (data: Buffer) => {
    for (const key of data.toString("utf8")) listener(key);
  };
  stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.resume();
  return () => {
    stdin.off("data", onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

/** Exit code of a command ended by Ctrl-C (128 + SIGINT), as shells expect. */
const INTERRUPTED = 130;

/**
 * grpc-js passes an IP address as the TLS server name, which Node flags with a deprecation
 * warning (DEP0123) on every TLS connection to 127.0.0.1 or 10.x: noise for a CLI user.
 */
export function silenceTlsDeprecation(): void {
  process.noDeprecation = true;
}

export async function runClientCommand(command: Command, args: string[], connection: ConnectOptions): Promise<number> {
  if (connection.tls) silenceTlsDeprecation();
  const corral = connect(connection);
  try {
    return await runOnClient(command, args, corral, displayAddress(corral.address));
  } finally {
    corral.close();
  }
}

/** Runs one command against a connected daemon; a failed call becomes "corral: ..." naming `label`, and exit code 1. */
export async function runOnClient(command: Command, args: string[], corral: CorralClient, label: string): Promise<number> {
  return withTerminal(async (base) => {
    const ctx: CliContext = { ...base, ...clientContext(corral) };
    try {
      return await command(ctx, args);
    } catch (error) {
      const line = describeCallError(error, label);
      if (line === undefined) throw error;
      ctx.err(`corral: ${line}${await programHint(ctx, error)}\n`);
      return 1;
    }
  });
}

/** What a CliContext holds apart from the daemon it talks to. */
export type TerminalContext = Omit<CliContext, "client" | "monitor" | "tasks" | "address">;

/** The daemon half of a CliContext. */
export function clientContext(corral: CorralClient): Pick<CliContext, "client" | "monitor" | "tasks" | "address"> {
  return { client: corral.processManager, monitor: corral.processMonitor, tasks: corral.taskRunner, address: displayAddress(corral.address) };
}

/** Runs `run` with Ctrl-C wired to an AbortSignal and stdout's EPIPE ending quietly; Ctrl-C exits 130. */
export async function withTerminal(run: (base: TerminalContext) => Promise<number>): Promise<number> {
  const interrupt = new AbortController();
  const onSignal = () => {
    // A second Ctrl-C means "now", even if something does not honour the first.
    if (interrupt.signal.aborted) process.exit(INTERRUPTED);
    interrupt.abort();
  };
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    // `corral logs -f | head`: the reader left, so there is no one to write for.
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.stdout.on("error", onStdoutError);
  const base: TerminalContext = {
    signal: interrupt.signal,
    out: (data) => void process.stdout.write(data),
    err: (data) => void process.stderr.write(data),
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    columns: () => (process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || undefined),
    onKey: process.stdin.isTTY ? onKey : undefined,
  };
  try {
    return await run(base);
  } catch (error) {
    if (isAbortError(error) && interrupt.signal.aborted) return INTERRUPTED;
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
