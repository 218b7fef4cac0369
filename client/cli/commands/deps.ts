// `corral deps [--json]`: the depends_on graph of the daemon's programs, as an indented tree
// (dependents first, their dependencies below with the condition), or as JSON.
import { parseArgs } from "node:util";
import { DependencyCondition } from "../../ts/index.js";
import { parsing } from "../args.js";
import { quick, type CliContext } from "../context.js";

const CONDITION_NAMES: Record<number, string> = {
  [DependencyCondition.STARTED]: "started",
  [DependencyCondition.READY]: "ready",
  [DependencyCondition.COMPLETED]: "completed",
  [DependencyCondition.COMPLETED_SUCCESSFULLY]: "completed_successfully",
};

export async function deps(ctx: CliContext, args: string[]): Promise<number> {
  const { values } = parsing("deps", () => parseArgs({ args, allowPositionals: false, options: { json: { type: "boolean" } } }));
  const { processes } = await ctx.client.listProcesses({}, quick(ctx));
  const graph = new Map(
    processes.map((p) => [
      p.name,
      Object.entries(p.spec?.dependsOn ?? {}).map(([name, condition]) => ({ name, condition: CONDITION_NAMES[condition] ?? "unknown" })),
    ]),
  );
  if (values.json) {
    ctx.out(`${JSON.stringify({ programs: [...graph].map(([name, dependsOn]) => ({ name, dependsOn })) }, null, 2)}\n`);
    return 0;
  }
  const needed = new Set([...graph.values()].flatMap((list) => list.map((d) => d.name)));
  const lines: string[] = [];
  const print = (name: string, depth: number, condition: string | undefined, path: string[]) => {
    lines.push(`${"  ".repeat(depth)}${depth > 0 ? "└─ " : ""}${name}${condition ? ` (${condition})` : ""}`);
    if (path.includes(name)) return;
    for (const dep of graph.get(name) ?? []) print(dep.name, depth + 1, dep.condition, [...path, name]);
  };
  // Roots: programs nothing depends on.
  for (const name of graph.keys()) if (!needed.has(name)) print(name, 0, undefined, []);
  ctx.out(lines.length > 0 ? `${lines.join("\n")}\n` : "no programs\n");
  return 0;
}
