// `corral deps [--json]`: the depends_on graph of the daemon's programs, as an indented tree
// (dependents first, their dependencies below with the condition), or as a JSON array.
import { DependencyConditionSchema } from "../../ts/index.js";
import { noPositionals, parseCommand } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { enumShortName, jsonOut } from "../json.js";

/** "ready", "completed_successfully": the config's words for a condition. */
function conditionName(condition: number): string {
  return enumShortName(DependencyConditionSchema, condition).toLowerCase();
}

export async function deps(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("deps", args);
  noPositionals(positionals, "deps");
  const { processes } = await ctx.client.listProcesses({}, quick(ctx));
  const graph = new Map(
    processes.map((p) => [p.name, Object.entries(p.spec?.dependsOn ?? {}).map(([name, condition]) => ({ name, condition: conditionName(condition) }))]),
  );
  if (values.json) {
    // One object per program: {"name", "dependsOn": [{"name", "condition"}]}, conditions in the config's words.
    ctx.out(jsonOut([...graph].map(([name, dependsOn]) => ({ name, dependsOn }))));
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
