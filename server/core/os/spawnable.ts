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

/**
 * Where a bare command name was last found, per PATH: checked first (a stat and an access) on
 * the next start instead of a stat of every PATH entry before it (a dozen syscalls for `sleep`
 * here). The answer is the same: it is "can run" whenever any candidate is an executable file.
 */
const foundOnPath = new Map<string, string>();
const FOUND_ON_PATH_MAX = 1024;

function executableFile(path: string): boolean {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    if (info === undefined || info.isDirectory()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why `command` (resolved on env.PATH unless it has a "/") cannot be run in cwd; undefined if it can. */
export function checkSpawnable(cwd: string, command: string, env: Record<string, string>): SpawnProblem | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return { path: cwd, errno: "ENOTDIR", message: `working directory ${cwd} is not a directory` };
  } catch (error) {
    const code = errnoOf(error) ?? "ENOENT";
    return { path: cwd, errno: code, message: `working directory ${cwd} is not usable (${code})` };
  }
  const path = env.PATH ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  const key = command.includes("/") ? undefined : `${cwd}\0${path}\0${command}`;
  const known = key === undefined ? undefined : foundOnPath.get(key);
  if (known !== undefined) {
    if (executableFile(known)) return undefined;
    foundOnPath.delete(key!);
  }
  const candidates = command.includes("/")
    ? [isAbsolute(command) ? command : resolvePath(cwd, command)]
    : path
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
      if (key !== undefined) {
        if (foundOnPath.size >= FOUND_ON_PATH_MAX) foundOnPath.clear();
        foundOnPath.set(key, candidate);
      }
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
