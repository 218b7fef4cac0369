// "Did you mean" for names the daemon does not know: on NOT_FOUND for a program (or a task), the
// daemon's own names closest to the one typed, asked for with a short deadline (a hint must not
// turn a quick failure into a slow one).
import { ClientError, Status } from "nice-grpc";
import { errorDetails } from "../ts/index.js";
import type { CliContext } from "./context.js";
import { didYouMean } from "./suggest.js";

const HINT_DEADLINE_MS = 1_000;

/** " (did you mean web?)" when error is NOT_FOUND for a program or task whose name is close to a known one; else "". */
export async function programHint(ctx: Pick<CliContext, "client" | "tasks">, error: unknown, typed?: string): Promise<string> {
  if (!(error instanceof ClientError) || error.code !== Status.NOT_FOUND) return "";
  const resource = errorDetails(error).resourceInfo;
  const kind = resource?.resourceType;
  const name = resource?.resourceName || typed;
  if (name === undefined || (kind !== "program" && kind !== "task")) return "";
  try {
    const options = { deadline: HINT_DEADLINE_MS };
    const known =
      kind === "program"
        ? (await ctx.client.listProcesses({}, options)).processes.map((p) => p.name)
        : (await ctx.tasks.listTasks({}, options)).tasks.map((t) => t.name);
    return didYouMean(name, known);
  } catch {
    return "";
  }
}
