// `corral status [NAME...] [--label k=v]... [--json]`: the programs as a table, or as a JSON array
// of ProcessInfo objects. Exits 3 when a selected program is not RUNNING (supervisorctl's rule),
// so scripts can `corral status web || ...`.
import { ProcessInfoSchema, ProcessState, ProcessView, type ProcessInfo } from "../../ts/index.js";
import { parseCommand, parseLabels } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { formatStatusTable } from "../format.js";
import { jsonOut, toCliJson } from "../json.js";

/** Exit code of `corral status` when some selected program is not RUNNING. */
export const EXIT_NOT_RUNNING = 3;

/** 3 when a program this daemon runs is not RUNNING (another host's programs are that host's to judge), else 0. */
export function statusExitCode(processes: ProcessInfo[]): number {
  return processes.some((p) => !p.remote && p.state !== ProcessState.RUNNING) ? EXIT_NOT_RUNNING : 0;
}

export async function status(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals: names } = parseCommand("status", args);
  const matchLabels = parseLabels(values.label, "status");
  let processes: ProcessInfo[];
  if (names.length > 0 && Object.keys(matchLabels).length === 0) {
    // GetProcess, so that an unknown name is a NOT_FOUND error rather than an empty table.
    processes = [];
    for (const name of names) {
      const { process } = await ctx.client.getProcess({ name }, quick(ctx));
      if (process) processes.push(process);
    }
  } else {
    // The table's fields only (a cold process pays for every message it decodes), unless --json prints everything.
    const view = values.json ? ProcessView.UNSPECIFIED : ProcessView.STATUS;
    ({ processes } = await ctx.client.listProcesses({ selector: { matchLabels, names }, view }, quick(ctx)));
  }
  if (values.json) {
    ctx.out(jsonOut(processes.map((p) => toCliJson(ProcessInfoSchema, p))));
  } else if (processes.length === 0) {
    ctx.err("no programs\n");
  } else {
    ctx.out(formatStatusTable(processes));
  }
  return statusExitCode(processes);
}
