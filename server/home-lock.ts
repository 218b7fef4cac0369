// One daemon per home: an exclusive flock(2) on <home>/daemon.lock, taken before anything in the
// home is read and held by the daemon's own open file for its whole life.
//
// Why this lock, of the ways there are:
// - flock(2) belongs to the open file description, and the kernel drops it when the last fd of
//   that description closes, which a SIGKILL or any crash does too: no stale lock to clean up,
//   and no pid to trust (a pidfile has both problems, and checking pid + start time still races
//   two daemons starting together). It works across network namespaces and for any path that
//   names the same file (symlinks, bind mounts), which an abstract Unix socket name does not.
// - Node has no flock binding, so flock(1) (util-linux, also busybox) takes it on a duplicate of
//   our fd (fd 3 of the child): the lock is on the shared description, so it stays when flock(1)
//   exits and is held by our fd alone. A helper process that kept the lock itself would outlive
//   a SIGKILLed daemon for a moment, or for ever if orphaned.
// - Binding the socket first is not atomic with removing a stale socket file: two daemons could
//   both see "nobody answers", both remove and bind, and each own half the clients.
// Node opens files close-on-exec, so programs and tasks the daemon spawns never inherit the fd:
// runs left for the next daemon (--keep-processes, a crash) do not keep the home locked.
import { spawnSync } from "node:child_process";
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const HOME_LOCK_FILE = "daemon.lock";

/** Another daemon holds the home: nothing of it was read or changed. */
export class HomeLockedError extends Error {
  constructor(
    readonly home: string,
    readonly holder: string,
  ) {
    super(
      `corral server: another corral daemon (${holder}) is running on home ${home} (it holds ${join(home, HOME_LOCK_FILE)}); ` +
        `nothing was read or changed. Stop it first (corral shutdown --home ${home}), or use another --home`,
    );
    this.name = "HomeLockedError";
  }
}

export interface HomeLock {
  readonly path: string;
  /** Drops the lock (closes the fd). Idempotent. */
  release(): void;
}

/**
 * Takes the home's lock or throws HomeLockedError (another daemon holds it) or an Error saying
 * why the lock could not be taken. The home directory must exist.
 */
export function lockHome(home: string): HomeLock {
  const path = join(home, HOME_LOCK_FILE);
  // Read-write without O_APPEND: the holder's pid is written at offset 0 below.
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  let taken = false;
  try {
    const result = spawnSync("flock", ["--nonblock", "--exclusive", "3"], { stdio: ["ignore", "ignore", "pipe", fd] });
    if (result.error) {
      const code = (result.error as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "flock(1) was not found on PATH (install util-linux, or busybox)" : result.error.message;
      throw new Error(`corral server: cannot lock home ${home} (${path}): ${why}`);
    }
    if (result.status === 1) throw new HomeLockedError(home, holderOf(path));
    if (result.status !== 0) {
      const stderr = result.stderr.toString("utf8").trim();
      throw new Error(
        `corral server: cannot lock home ${home}: flock(1) on ${path} failed (${result.signal ?? `exit ${result.status}`})${stderr ? `: ${stderr}` : ""}`,
      );
    }
    taken = true;
    // Only for the message a second daemon prints; the lock, not this text, is what counts.
    ftruncateSync(fd, 0);
    writeSync(fd, `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`, 0);
  } finally {
    if (!taken) closeSync(fd);
  }
  let open = true;
  return {
    path,
    release: () => {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** "pid N, since T" from the lock file, as its holder wrote it; "pid unknown" if unreadable. */
function holderOf(path: string): string {
  try {
    const doc = JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown; since?: unknown };
    if (typeof doc.pid === "number") return `pid ${doc.pid}${typeof doc.since === "string" ? `, since ${doc.since}` : ""}`;
  } catch {
    // written by a holder that has not got that far, or by hand
  }
  return "pid unknown";
}
