// `corral status [NAME...] [--label k=v]... [--json]`: the programs as a table, or as the
// proto JSON form of ListProcessesResponse.
import { parseArgs } from "node:util";
import { ListProcessesResponseSchema, ProcessView, type ProcessInfo } from "../../ts/index.js";
import { parseLabels, parsing } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { formatStatusTable, jsonLine } from "../format.js";

export async function status(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals: names } = parsing("status", () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, label: { type: "string", multiple: true } },
    }),
  );
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
    // The table needs no spec beyond the host: the slim view, unless --json prints everything.
    const view = values.json ? ProcessView.UNSPECIFIED : ProcessView.BASIC;
    ({ processes } = await ctx.client.listProcesses({ selector: { matchLabels, names }, view }, quick(ctx)));
  }
  if (values.json) {
    ctx.out(jsonLine(ListProcessesResponseSchema, { processes }));
  } else if (processes.length === 0) {
    ctx.err("no programs\n");
  } else {
    ctx.out(formatStatusTable(processes));
  }
  return 0;
}
