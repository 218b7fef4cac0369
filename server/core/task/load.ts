// Loads the task-type modules listed in the config (tasks.modules): every exported class with a
// run(ctx) method becomes a task type (named by its static taskType, else the class name).
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "../errors.js";
import { LoopTask } from "./loop.js";
import type { TaskRunner } from "./runner.js";
import type { TaskClass, TaskTypeEntry } from "./types.js";

export function isTaskClass(value: unknown): value is TaskClass {
  return typeof value === "function" && typeof (value as { prototype?: { run?: unknown } }).prototype?.run === "function";
}

/** Imports each module and registers its task types; a module without any is an error. */
export async function loadTaskModules(runner: TaskRunner, modulePaths: readonly string[]): Promise<TaskTypeEntry[]> {
  const loaded: TaskTypeEntry[] = [];
  for (const [i, modulePath] of modulePaths.entries()) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
    } catch (error) {
      throw new InvalidArgumentError(`tasks.modules[${i}]`, modulePath, `cannot be imported: ${error instanceof Error ? error.message : String(error)}`);
    }
    const seen = new Set<unknown>();
    let found = 0;
    for (const [exportName, value] of Object.entries(mod)) {
      // The base class re-exported for convenience is not a type of its own.
      if (!isTaskClass(value) || value === (LoopTask as unknown) || seen.has(value)) continue;
      seen.add(value);
      loaded.push(runner.registerType(value, { source: modulePath, modulePath, exportName }));
      found++;
    }
    if (found === 0) throw new InvalidArgumentError(`tasks.modules[${i}]`, modulePath, "exports no task type (a class with a run(ctx) method)");
  }
  return loaded;
}
