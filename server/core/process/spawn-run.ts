// The fork of one run: recorded in the spawn log before it happens, the child's stdout, stderr and
// custom streams (fds 3, 4, ...) opened straight onto the program's log files (so output never
// passes through the daemon), its own session and process group (so a stop reaches the whole
// tree), and the markers by which a next daemon finds the run (spawn-recovery.ts). A step that
// fails becomes a RunSpawnProblem.
//
// Why not execa: its value is the child's piped output (streams, a promise per child, buffered
// results) and kill-on-exit clean-up; here output never passes through the daemon (the log files
// are the child's fds), and that clean-up is skipped for detached children, which every run is.
// execa 10 also needs Node 22. node:child_process spawn is the whole of what is needed.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, fchownSync } from "node:fs";
import type { ResourceExhaustedError } from "../errors.js";
import { errnoOf, resourceError } from "../resource-errors.js";
import { crashPoint } from "../failpoints.js";
import type { SpawnProblem } from "../os/spawnable.js";
import { readySpawner, type SpawnedChild } from "../os/spawner.js";
import { accountEnv, type Credentials } from "../os/users.js";
import type { LogFile } from "./log-file.js";
import { customStreamFds } from "./stream-names.js";
import type { ProgramConfig } from "./types.js";

/** Closes the daemon's copy of a log fd handed to a child (it may be closed already). */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * The daemon's environment, copied once: nothing in the daemon changes process.env, and reading
 * it is a C++ call per variable (a copy per spawn took ~180 µs).
 */
let daemonEnv: Record<string, string | undefined> | undefined;

/** A failed spawn step; disk full and out of fds also as the error a start's caller is given. */
export type RunSpawnProblem = SpawnProblem & { resource?: ResourceExhaustedError };

export interface SpawnDeps {
  /** Added to the run's environment: which daemon home the run belongs to. */
  markerEnv?: Record<string, string>;
  spawnLog?: { intent(program: string, runId: number, logStart: { stdout: number; stderr: number }): void };
}

/** A spawn step's error as a RunSpawnProblem; disk full and out of fds said in words (resource-errors.ts). */
export function spawnProblem(name: string, error: unknown, what: string, path: string): RunSpawnProblem {
  const resource = resourceError(error, `${name}: ${what}`, path);
  if (resource) return { path, errno: resource.errno, message: resource.message, resource };
  const errno = errnoOf(error) ?? "EUNKNOWN";
  return { path, errno, message: `${name}: ${what} ${path} failed: ${error instanceof Error ? error.message : String(error)}` };
}

/**
 * Forks the run. The child may still fail on the next tick (its pid is then undefined and an
 * 'error' follows: EMFILE, EAGAIN...); the caller watches for that and for its exit.
 */
export function spawnChild(
  /** customLogs: the config's custom streams' files, in order: the child's fds 3, 4, ... (stream-names.ts). */
  program: { name: string; config: ProgramConfig; stdout: LogFile; stderr: LogFile; customLogs?: LogFile[] },
  runId: number,
  startOffsets: { stdout: number; stderr: number },
  deps: SpawnDeps,
  /** What to exec (default: the config's command); e.g. the command as the run's user (setpriv, os/users.ts). */
  argv: { command: string; args: string[] } = { command: program.config.command[0], args: program.config.command.slice(1) },
  /** The run's user (user/uid/gid): its log files become its own, and $HOME, $USER, $LOGNAME its account's. */
  credentials?: Credentials,
  /** The run's cgroup: the child joins it before its exec. */
  cgroup?: { procsPath: string; wrap(command: string, args: string[]): { command: string; args: string[] } },
): { child: ChildProcess | SpawnedChild } | { problem: RunSpawnProblem } {
  const { name, config } = program;
  // The markers let a next daemon find a run whose pid it never learnt (spawn-recovery.ts).
  const added = (): Record<string, string> => ({
    ...(credentials ? accountEnv(credentials) : {}),
    ...config.env,
    ...deps.markerEnv,
    ...streamEnv,
    CORRAL_PROGRAM: name,
    CORRAL_RUN_ID: String(runId),
  });
  // Each custom stream's fd, named for the child: CORRAL_STREAM_PROGRESS=3.
  const streamEnv = Object.fromEntries(customStreamFds(config).map(({ env, fd }) => [env, String(fd)]));
  // The spawner (os/spawner.ts) forks what needs only stdout and stderr as files; a stdin pipe,
  // custom streams and another user's files need Node's spawn.
  const spawner = config.stdin || credentials || (program.customLogs?.length ?? 0) > 0 ? undefined : readySpawner();
  if (spawner) {
    deps.spawnLog?.intent(name, runId, startOffsets);
    crashPoint("crash-before-fork");
    const request = { ...argv, envAdded: added(), cwd: config.cwd, stdoutPath: program.stdout.path, stderrPath: program.stderr.path };
    return { child: spawner.spawn(cgroup ? { ...request, cgroupProcs: cgroup.procsPath } : request) };
  }
  if (cgroup) argv = cgroup.wrap(argv.command, argv.args);
  // stdout, stderr, then each custom stream: the child's fds 1, 2, 3, 4, ...
  const files = [program.stdout, program.stderr, ...(program.customLogs ?? [])];
  // Before the fork: a daemon killed from here on leaves a trace the next one follows.
  deps.spawnLog?.intent(name, runId, startOffsets);
  crashPoint("crash-before-fork");
  const fds: number[] = [];
  try {
    for (const file of files) fds.push(file.openForChild());
  } catch (error) {
    for (const fd of fds) closeQuietly(fd);
    return { problem: spawnProblem(name, error, "opening the log file", files[fds.length].path) };
  }
  if (credentials) {
    // The run writes through these fds whoever owns the files, but a program that reopens its
    // output by path (`echo x > /dev/stderr` in dash, /proc/self/fd/1) is checked against the
    // file's owner and mode: the current files become the run's user's (backups stay the daemon's).
    try {
      for (const fd of fds) fchownSync(fd, credentials.uid, credentials.gid);
    } catch (error) {
      for (const fd of fds) closeQuietly(fd);
      return { problem: spawnProblem(name, error, `giving the log files to uid ${credentials.uid}:`, program.stdout.path) };
    }
  }
  let child: ChildProcess;
  try {
    child = spawn(argv.command, argv.args, {
      cwd: config.cwd,
      env: { ...(daemonEnv ??= { ...process.env }), ...added() },
      // Own session and process group, so stop reaches the whole tree.
      detached: true,
      stdio: [config.stdin ? "pipe" : "ignore", ...fds],
    });
  } catch (error) {
    for (const fd of fds) closeQuietly(fd);
    return { problem: spawnProblem(name, error, "spawning", config.command[0]) };
  }
  // The child has its own copies; the daemon keeps none open.
  for (const fd of fds) closeQuietly(fd);
  return { child };
}
