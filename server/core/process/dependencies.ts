// The dependency graph of programs (depends_on): cycle and unknown-name checks, the closure of
// what a start pulls in, and whether a dependency's condition holds for its dependent.
import type { DependencyCondition, ProcessState, ProgramConfig } from "./types.js";

/** Dependencies by program name, in config order. */
export type DependencyGraph = Map<string, string[]>;

export function dependencyGraph(programs: readonly ProgramConfig[]): DependencyGraph {
  return new Map(programs.map((p) => [p.name, Object.keys(p.dependsOn ?? {})]));
}

/** One cycle as a path that ends where it starts (["a", "b", "a"]), or undefined. */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const seen = state.get(name);
    if (seen === "done") return undefined;
    if (seen === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of graph.get(name) ?? []) {
      if (!graph.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of graph.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Problems of a graph: names that do not exist, and cycles (each reported once). */
export function dependencyProblems(graph: DependencyGraph): { program: string; dependency?: string; rule: string }[] {
  const problems: { program: string; dependency?: string; rule: string }[] = [];
  for (const [name, deps] of graph) {
    for (const dep of deps) {
      if (dep === name) problems.push({ program: name, dependency: dep, rule: "a program cannot depend on itself" });
      else if (!graph.has(dep)) problems.push({ program: name, dependency: dep, rule: `unknown program "${dep}" (depends_on names programs of this config)` });
    }
  }
  const withoutSelf = new Map([...graph].map(([name, deps]) => [name, deps.filter((d) => d !== name)]));
  const cycle = findCycle(withoutSelf);
  if (cycle) problems.push({ program: cycle[0], rule: `dependency cycle: ${cycle.join(" -> ")}` });
  return problems;
}

/** Level of each name: 0 with no dependencies, else 1 + the highest level among them. */
export function dependencyLevels(graph: DependencyGraph): Map<string, number> {
  const levels = new Map<string, number>();
  const level = (name: string, path: Set<string>): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    if (path.has(name)) return 0; // cycles are refused by the config; do not loop here
    path.add(name);
    const deps = (graph.get(name) ?? []).filter((d) => graph.has(d));
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => level(d, path)));
    path.delete(name);
    levels.set(name, value);
    return value;
  };
  for (const name of graph.keys()) level(name, new Set());
  return levels;
}

export interface DependencyView {
  state: ProcessState;
  ready: boolean;
  /** The last run exited (with its code when it exited normally). */
  exited: boolean;
  exitedSuccessfully: boolean;
  /** The program was started at least once since the daemon started (so "completed" means this time). */
  hasRun: boolean;
}

export type ConditionCheck = { met: true } | { met: false; failed: false } | { met: false; failed: true; why: string };

/** Whether the dependency's condition holds, is still pending, or can no longer hold. */
export function conditionHolds(condition: DependencyCondition, dep: DependencyView): ConditionCheck {
  if (dep.state === "FATAL") return { met: false, failed: true, why: "is FATAL" };
  switch (condition) {
    case "started":
      if (dep.state === "RUNNING" || dep.state === "STARTING" || (dep.hasRun && dep.state === "EXITED")) return { met: true };
      break;
    case "ready":
      if (dep.ready) return { met: true };
      break;
    case "completed":
      if (dep.hasRun && dep.exited && (dep.state === "EXITED" || dep.state === "STOPPED")) return { met: true };
      break;
    case "completed_successfully":
      if (dep.hasRun && dep.exited && (dep.state === "EXITED" || dep.state === "STOPPED")) {
        return dep.exitedSuccessfully ? { met: true } : { met: false, failed: true, why: "completed unsuccessfully" };
      }
      break;
  }
  if (dep.state === "STOPPED" || dep.state === "STOPPING" || (dep.state === "EXITED" && condition !== "completed" && condition !== "completed_successfully")) {
    return { met: false, failed: true, why: `is ${dep.state}` };
  }
  return { met: false, failed: false };
}
