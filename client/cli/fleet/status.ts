// `corral status` across hosts: every host's own programs with a HOST column (and `host` in
// --json); a host that does not answer within the deadline shows its configured programs as
// UNKNOWN with "host NAME unreachable: ..." and makes the exit code 1.
import { create } from "@bufbuild/protobuf";
import { ClientError, Status } from "nice-grpc";
import { ProcessInfoSchema, ProcessState, type ProcessInfo } from "../../ts/index.js";
import { HostUnreachableError } from "../../ts/hosts.js";
import { parseCommand, parseLabels } from "../args.js";
import { statusExitCode } from "../commands/status.js";
import { jsonOut, toCliJson } from "../json.js";
import { codeName } from "../errors.js";
import { formatStatusTable } from "../format.js";
import type { FleetContext } from "./context.js";

export async function fleetStatus(ctx: FleetContext, args: string[]): Promise<number> {
  const { values, positionals: names } = parseCommand("status", args);
  const matchLabels = parseLabels(values.label, "status");
  const answers = await ctx.fleet.onEachHost(
    ctx.scope,
    async (client, host, options) => {
      // Names are asked one by one: a name this host does not have is simply not here.
      const wanted = names.filter((name) => ctx.fleet.hostsOf(name)?.includes(host) ?? true);
      if (names.length === 0) return (await client.processManager.listProcesses({ selector: { matchLabels, names: [] } }, options)).processes;
      const found: ProcessInfo[] = [];
      for (const name of wanted) {
        try {
          const { process } = await client.processManager.getProcess({ name }, options);
          if (process) found.push(process);
        } catch (error) {
          if (!(error instanceof ClientError && error.code === Status.NOT_FOUND)) throw error;
        }
      }
      return found;
    },
    { signal: ctx.signal },
  );

  let exitCode = 0;
  const processes: ProcessInfo[] = [];
  for (const answer of answers) {
    if (answer.ok) {
      // Each daemon also lists the other hosts' programs as remote: they are shown by their own host.
      processes.push(...answer.value.filter((process) => !process.remote));
      continue;
    }
    exitCode = 1;
    if (answer.error instanceof HostUnreachableError) {
      const configured = ctx.fleet.programsOn(answer.host).filter((name) => names.length === 0 || names.includes(name));
      for (const name of configured) {
        processes.push(create(ProcessInfoSchema, { name, host: answer.host, state: ProcessState.UNKNOWN, stateReason: answer.error.message }));
      }
      if (configured.length === 0) ctx.err(`corral: ${answer.error.message}\n`);
    } else {
      const detail = answer.error instanceof ClientError ? `${codeName(answer.error.code)}: ${answer.error.details}` : answer.error.message;
      ctx.err(`corral: host ${answer.host}: ${detail}\n`);
    }
  }
  for (const name of names) {
    if (!processes.some((process) => process.name === name) && !answers.some((answer) => !answer.ok)) {
      ctx.err(`corral: NOT_FOUND: no program named "${name}" on ${ctx.scope.join(", ")}\n`);
      exitCode = 1;
    }
  }
  if (values.json) ctx.out(jsonOut(processes.map((p) => toCliJson(ProcessInfoSchema, p))));
  else if (processes.length === 0) ctx.err("no programs\n");
  else ctx.out(formatStatusTable(processes, { hostColumn: true }));
  // A failure (1) says more than a program that is not running (3).
  return exitCode || statusExitCode(processes);
}
