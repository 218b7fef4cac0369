// Finds, before spawning, why a command could not start (missing or non-executable command,
// unusable cwd), so the error names the path and errno instead of a bare spawn ENOENT.
import { accessSync, constants as fsConstants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve as resolvePath } from "node:path";
import { errnoOf } from "../resource-errors.js";

export interface SpawnProblem {
  path: string;
  errno: string;
  message: string;
}

/** Why `command` (resolved on env.PATH unless it has a "/") cannot be run in cwd; undefined if it can. */
export function checkSpawnable(cwd: string, command: string, env: Record<string, string>): SpawnProblem | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return { path: cwd, errno: "ENOTDIR", message: `working directory ${cwd} is not a directory` };
  } catch (error) {
    const code = errnoOf(error) ?? "ENOENT";
    return { path: cwd, errno: code, message: `working directory ${cwd} is not usable (${code})` };
  }
  const candidates = command.includes("/")
    ? [isAbsolute(command) ? command : resolvePath(cwd, command)]
    : (env.PATH ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  let firstProblem: SpawnProblem | undefined;
  for (const candidate of candidates) {
    try {
      // A PATH entry without the command is the usual case: no error built for it (each throw
      // cost ~30 µs, a dozen per start of a command late on a long PATH).
      const info = statSync(candidate, { throwIfNoEntry: false });
      if (info === undefined) continue;
      if (info.isDirectory()) {
        firstProblem ??= { path: candidate, errno: "EISDIR", message: `executable ${candidate} is a directory` };
        continue;
      }
      accessSync(candidate, fsConstants.X_OK);
      return undefined;
    } catch (error) {
      const code = errnoOf(error) ?? "ENOENT";
      if (code !== "ENOENT") firstProblem ??= { path: candidate, errno: code, message: `executable ${candidate} is not executable (${code})` };
    }
  }
  if (firstProblem) return firstProblem;
  return command.includes("/")
    ? { path: candidates[0], errno: "ENOENT", message: `executable ${candidates[0]} does not exist (ENOENT)` }
    : { path: command, errno: "ENOENT", message: `executable "${command}" not found on PATH (ENOENT)` };
}
