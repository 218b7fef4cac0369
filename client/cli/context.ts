// What every client-side `corral` command is given: the daemon client, where it is, the
// Ctrl-C signal, and the output streams (kept abstract so commands never touch process.*).
import type { ProcessManagerClient, ProcessMonitorClient, TaskRunnerClient } from "../ts/index.js";

export interface CliContext {
  readonly client: ProcessManagerClient;
  /** The ProcessMonitor service of the same daemon. */
  readonly monitor: ProcessMonitorClient;
  /** The TaskRunner service of the same daemon. */
  readonly tasks: TaskRunnerClient;
  /** The daemon address as a user would type it (for messages). */
  readonly address: string;
  /** Aborted on Ctrl-C / SIGTERM; passed to every call so everything unwinds. */
  readonly signal: AbortSignal;
  out(data: string | Uint8Array): void;
  err(data: string | Uint8Array): void;
  /** Progress lines are drawn only for a person watching a terminal. */
  readonly stderrIsTTY: boolean;
  /** A live display (`corral top`) redraws only on a terminal; otherwise it prints once. */
  readonly stdoutIsTTY?: boolean;
  /** The terminal's width for a display that must not wrap (`corral top`): stdout's columns, else $COLUMNS, else none. */
  columns?(): number | undefined;
  /** Delivers single key presses (raw terminal input) until the returned function is called; absent without a terminal. */
  onKey?(listener: (key: string) => void): () => void;
}

/** Call options for short requests: cancellable, and bounded so a hung daemon cannot hang the CLI. */
export function quick(ctx: CliContext): { signal: AbortSignal; deadline: number } {
  return { signal: ctx.signal, deadline: 15_000 };
}

/** Call options for requests that take as long as they take (bulk starts, streams). */
export function open(ctx: Pick<CliContext, "signal">, deadlineMs?: number): { signal: AbortSignal; deadline?: number } {
  return deadlineMs === undefined ? { signal: ctx.signal } : { signal: ctx.signal, deadline: deadlineMs };
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}
