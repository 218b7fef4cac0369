// The task runner as the daemon builds it: the built-in types, then the config's modules.
import { ExecTask } from "./exec.js";
import { loadTaskModules } from "./load.js";
import { TaskRunner } from "./runner.js";
import { runInWorker } from "./worker.js";

export { TaskRunner } from "./runner.js";
export { TASK_STATES } from "./types.js";

/** A TaskRunner with the built-in task types and the types of these modules (absolute paths). */
export async function createTaskRunner(modulePaths: readonly string[]): Promise<TaskRunner> {
  const runner = new TaskRunner({ workerExecutor: runInWorker });
  runner.registerType(ExecTask);
  await loadTaskModules(runner, modulePaths);
  return runner;
}
