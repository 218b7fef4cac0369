// The daemon's persistent state: each program's desired state, its restart counter and its live
// run (pid + start ticks + run id + start time), so a new daemon on the same home re-adopts what
// the old one left running.
//
// Format: one JSON document, replaced atomically (write a temp file, fsync, rename, fsync the
// directory). Why not a journal or an embedded database: the state is small (one record per
// program, ~300 bytes), each save rewrites all of it in well under a millisecond, and a rename is
// the one atomic step a filesystem gives: after a crash at any moment the file is the old or the
// new version, never a torn mix, and it opens with JSON.parse (no native dependency, readable with
// cat). A file that does not parse anyway (disk error, hand edits) is moved aside and reported;
// the daemon then starts with no saved state.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { describeResource, errnoOf } from "../resource-errors.js";
import { failpointNumber } from "../failpoints.js";

export type DesiredState = "running" | "stopped";

export interface SavedRun {
  runId: number;
  pid: number;
  pidStartTicks: number;
  /** ISO time; uptime continues from it after re-adoption. */
  startedAt: string;
  /** Log offsets where the run's output begins (a log readiness probe matches from there). */
  stdoutStart: number;
  stderrStart: number;
  /** Set when the run had ended: the program's last exit, shown again by the next daemon. */
  exitedAt?: string;
  exitCode?: number;
  exitSignal?: string;
  spawnError?: string;
  exitStatusUnknown?: string;
}

export interface SavedProgram {
  /** The user's last start or stop; absent when never said (autostart decides). */
  desired?: DesiredState;
  state: string;
  stateReason: string;
  restarts: number;
  /** A restart was scheduled (BACKOFF, or EXITED waiting for autorestart). */
  retryPending: boolean;
  /** A start or restart was asked for and had not spawned yet when this was saved: the next daemon does it. */
  startPending?: boolean;
  /** The current run: alive when exitedAt is unset, else the last one (with its exit). */
  run?: SavedRun;
  /** ISO time of the last state change. */
  stateSince?: string;
  /**
   * An ad-hoc program's (CreateProgram) settings as a config file holds them (snake_case keys,
   * cwd absolute): the next daemon re-creates it. Opaque JSON here; the process core validates it
   * with the program schema when it restores it.
   */
  adhocProgram?: Record<string, unknown>;
  /** Written by corral before adhocProgram (the core's own shape): not re-created, reported. */
  adhocConfig?: Record<string, unknown>;
  /** Up when an orderly shutdown began and stopped by it (not by the user). */
  stoppedByShutdown?: boolean;
  /**
   * Up when the daemon's shutdown began (saved before its first stop signal): a run of it found
   * gone by the next daemon was stopped by that shutdown, not by the user or a crash of its own.
   */
  upAtShutdown?: boolean;
}

export interface SavedState {
  version: 1;
  savedAt: string;
  /** /proc/sys/kernel/random/boot_id: after a reboot no saved pid can be ours. */
  bootId: string;
  daemonPid: number;
  programs: Record<string, SavedProgram>;
}

export interface LoadResult {
  state?: SavedState;
  /** Why the file could not be used (it was moved aside), for the journal and the log. */
  problem?: string;
}

export function currentBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}

/** Writes data to path so that a crash at any moment leaves the old or the new file. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    // writeFileSync on an fd loops until every byte is written: a single writeSync may write
    // part of the data on a nearly full disk, and a short file must never replace a good one.
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try {
      unlinkSync(tmp); // gives back the space the partial copy took
    } catch {
      // already gone
    }
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // The rename itself is durable once the directory is synced (matters for power loss only).
  fsyncDirectory(path);
}

/** fsync of the directory holding path (the rename in it is durable then); refused by some filesystems. */
function fsyncDirectory(path: string): void {
  try {
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

/**
 * writeFileAtomic with the write and both fsyncs on libuv's thread pool, so the event loop goes
 * on meanwhile; only the rename runs on the main thread, after `commit()` said yes (a newer
 * save may have landed meanwhile: then the temp file is dropped). Each call has its own temp.
 */
export async function writeFileAtomicAsync(path: string, data: string, tmp: string, commit: () => boolean): Promise<boolean> {
  const file = await open(tmp, "w", 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await file.close();
  if (!commit()) {
    await unlink(tmp).catch(() => undefined);
    return false;
  }
  renameSync(tmp, path);
  const dir = await open(dirname(path), "r").catch(() => undefined);
  if (dir)
    await dir
      .sync()
      .catch(() => undefined)
      .finally(() => dir.close());
  return true;
}

/** What reading a saved JSON document found; the caller words the problem for its own file. */
export type DocumentRead<T> =
  | { kind: "missing" }
  | { kind: "unreadable"; why: string }
  | { kind: "unusable"; why: string; aside: string; moved: boolean }
  | { kind: "read"; doc: T };

/** Reads path and parses it; a file that does not parse is moved aside (to path.corrupt-<ms>). */
export function readDocument<T>(path: string, parse: (text: string) => T): DocumentRead<T> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = errnoOf(error);
    return code === "ENOENT" ? { kind: "missing" } : { kind: "unreadable", why: code ?? String(error) };
  }
  try {
    return { kind: "read", doc: parse(text) };
  } catch (error) {
    const aside = `${path}.corrupt-${Date.now()}`;
    let moved = false;
    try {
      renameSync(path, aside);
      moved = true;
    } catch {
      // keep it where it is; the next save replaces it
    }
    return { kind: "unusable", why: (error as Error).message, aside, moved };
  }
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const optional = (value: unknown, type: "string" | "integer") =>
  value === undefined || (type === "integer" ? Number.isSafeInteger(value) : typeof value === "string");

function validRun(value: unknown): value is SavedRun {
  if (!isRecord(value)) return false;
  const ended = typeof value.exitedAt === "string" && !Number.isNaN(Date.parse(value.exitedAt));
  return (
    Number.isSafeInteger(value.runId) &&
    Number.isSafeInteger(value.pid) &&
    // A run that failed to spawn has no pid.
    ((value.pid as number) > 0 || (ended && value.pid === 0)) &&
    (value.exitedAt === undefined || ended) &&
    optional(value.exitCode, "integer") &&
    optional(value.exitSignal, "string") &&
    optional(value.spawnError, "string") &&
    optional(value.exitStatusUnknown, "string") &&
    Number.isSafeInteger(value.pidStartTicks) &&
    typeof value.startedAt === "string" &&
    !Number.isNaN(Date.parse(value.startedAt)) &&
    Number.isSafeInteger(value.stdoutStart) &&
    Number.isSafeInteger(value.stderrStart)
  );
}

function validProgram(value: unknown): value is SavedProgram {
  if (!isRecord(value)) return false;
  return (
    (value.desired === undefined || value.desired === "running" || value.desired === "stopped") &&
    typeof value.state === "string" &&
    typeof value.stateReason === "string" &&
    Number.isSafeInteger(value.restarts) &&
    typeof value.retryPending === "boolean" &&
    (value.startPending === undefined || typeof value.startPending === "boolean") &&
    (value.stateSince === undefined || (typeof value.stateSince === "string" && !Number.isNaN(Date.parse(value.stateSince)))) &&
    (value.adhocProgram === undefined || isRecord(value.adhocProgram)) &&
    (value.adhocConfig === undefined || isRecord(value.adhocConfig)) &&
    (value.stoppedByShutdown === undefined || typeof value.stoppedByShutdown === "boolean") &&
    (value.upAtShutdown === undefined || typeof value.upAtShutdown === "boolean") &&
    (value.run === undefined || validRun(value.run))
  );
}

/** Parses and checks a state document; throws with the reason when it is not one. */
export function parseState(text: string): SavedState {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc) || doc.version !== 1) throw new Error("not a corral state document (version 1)");
  if (typeof doc.bootId !== "string" || typeof doc.savedAt !== "string" || !Number.isSafeInteger(doc.daemonPid) || !isRecord(doc.programs)) {
    throw new Error("missing or malformed header fields");
  }
  for (const [name, program] of Object.entries(doc.programs)) {
    if (!validProgram(program)) throw new Error(`malformed record for program "${name}"`);
  }
  return doc as unknown as SavedState;
}

export class StateStore {
  private saveScheduled = false;
  private frozen = false;
  /** Snapshots taken so far, and the newest one on disk: an older one never replaces a newer one. */
  private taken = 0;
  private committed = 0;
  /** A background save is being written (at most one; changes meanwhile save again after it). */
  private writing = false;
  private again = false;
  /** Holds on saveSoon (a bulk start issuing its spawns) and whether a save was asked for meanwhile. */
  private holds = 0;
  private heldSave = false;

  /**
   * snapshot() builds the document to save, or its JSON text (which the caller may build from
   * parts it keeps); it is called at save time, so it is always current.
   */
  constructor(
    readonly path: string,
    private readonly snapshot: () => SavedState | string,
    /** Told when saving starts failing and when it works again (an event in the journal). */
    private readonly onProblem?: (message: string) => void,
    /**
     * Called after each successful save with the mark() taken with its snapshot (the spawn log
     * it supersedes is emptied, unless something was logged after the snapshot).
     */
    private readonly afterSave?: (mark: number | undefined) => void,
    /** Read with each snapshot and handed to afterSave. Without it saveSoon writes synchronously. */
    private readonly mark?: () => number,
  ) {}

  /** Reads the saved state. A missing file is a first start; a bad one is moved aside and reported. */
  load(): LoadResult {
    const read = readDocument(this.path, parseState);
    switch (read.kind) {
      case "missing":
        return {};
      case "unreadable":
        return { problem: `state file ${this.path} could not be read (${read.why}); starting without saved state` };
      case "unusable":
        return {
          problem: `state file ${this.path} is unusable (${read.why})${read.moved ? `; moved to ${read.aside}` : ""}; starting without saved state: runs of the previous daemon are not re-adopted`,
        };
      case "read":
        return { state: read.doc };
    }
  }

  /**
   * Saves once the current turn of the event loop is done: a burst of changes (a bulk start)
   * costs one write. The write and its fsyncs run in the background (a state change must not
   * wait for the disk: two fsyncs took 10-30 ms on a busy disk, on the event loop); what must be
   * on disk before the daemon acts (a spawn's intent) uses saveNow. A crash before the write
   * completes loses only these changes, as a crash before the next turn did, and a slow disk did.
   */
  saveSoon(): void {
    if (this.saveScheduled || this.frozen) return;
    if (this.holds > 0) {
      this.heldSave = true;
      return;
    }
    if (this.writing) {
      this.again = true;
      return;
    }
    this.saveScheduled = true;
    const save = () => {
      this.saveScheduled = false;
      if (this.frozen) return;
      if (this.mark) this.background = this.saveInBackground(this.mark);
      else this.saveNow();
    };
    // A crash test may stretch the window a slow disk would open (see failpoints.ts).
    const delayMs = failpointNumber("state-save-delay-ms");
    if (delayMs === undefined) setImmediate(save);
    else setTimeout(save, delayMs);
  }

  /**
   * Until the returned release is called, saveSoon only notes that a save is due; the release
   * makes it. A bulk start holds saves while it issues its spawns: it saved its intent first
   * (saveNow) and the spawn log records each run before and after its fork, so what a crash
   * meanwhile loses is what an unfinished background save loses; one save replaces ~70 (each a
   * snapshot of every program). saveNow and saveDurably are never held.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0 && this.heldSave) {
        this.heldSave = false;
        this.saveSoon();
      }
    };
  }

  private background: Promise<void> | undefined;

  /** Settles once no background save is being written (tests; a save never rejects). */
  async settled(): Promise<void> {
    while (this.background) await this.background;
  }

  private async saveInBackground(mark: () => number): Promise<void> {
    this.writing = true;
    try {
      await this.writeInPool("background", mark());
    } finally {
      this.writing = false;
      this.background = undefined;
      if (this.again) {
        this.again = false;
        this.saveSoon();
      }
    }
  }

  /** The durable save asked for and not begun yet (every caller until it begins shares it), and the one in flight. */
  private durableQueued?: Promise<void>;
  private durableLast: Promise<void> = Promise.resolve();

  /**
   * Like saveNow (settles once a snapshot taken after the call is on disk, or the save failed and
   * was reported), but with the write and fsyncs in the thread pool: the event loop goes on
   * meanwhile (two fsyncs on it delayed every event of a stop to its watchers). Callers until
   * the save begins share it; one asked for while another is written starts after it.
   */
  saveDurably(): Promise<void> {
    if (this.frozen) return Promise.resolve();
    if (this.durableQueued) return this.durableQueued;
    const queued = this.durableLast.then(async () => {
      this.durableQueued = undefined;
      if (!this.frozen) await this.writeInPool("durable", this.mark?.());
    });
    this.durableQueued = queued;
    this.durableLast = queued;
    return queued;
  }

  /**
   * One snapshot written atomically with its write and fsyncs in the thread pool (its own temp
   * file per kind); it lands only if no later snapshot has (generations) and the store is not frozen.
   */
  private async writeInPool(kind: "background" | "durable", marked: number | undefined): Promise<void> {
    const generation = ++this.taken;
    try {
      const data = this.text();
      // Committed at the rename, not after the directory's fsync: a save taken earlier that
      // reaches its rename meanwhile must see this one, or it puts the older state back (a
      // background save landing over a stop's durable one lost the exit it had waited for).
      const commit = () => {
        if (this.frozen || generation <= this.committed) return false;
        this.committed = generation;
        return true;
      };
      const written = await writeFileAtomicAsync(this.path, data, `${this.path}.${kind}.tmp`, commit);
      if (written) this.saved(generation, marked);
    } catch (error) {
      this.failed(error);
    }
  }

  private text(): string {
    const snapshot = this.snapshot();
    return typeof snapshot === "string" ? snapshot : JSON.stringify(snapshot);
  }

  saveNow(): void {
    try {
      const generation = ++this.taken;
      const marked = this.mark?.();
      writeFileAtomic(this.path, this.text());
      this.saved(generation, marked);
    } catch (error) {
      this.failed(error);
    }
  }

  private saved(generation: number, mark: number | undefined): void {
    this.committed = Math.max(this.committed, generation);
    if (this.failing) this.onProblem?.(`saving state to ${this.path} works again`);
    this.failing = false;
    this.afterSave?.(mark);
  }

  private failed(error: unknown): void {
    // A full disk must not take the daemon down; the previous file stays (the write goes to a
    // temp file first) and the next change tries again. Said once per run of failures.
    if (!this.failing) {
      const why = describeResource(errnoOf(error)) ?? (error as Error).message;
      const message = `saving state to ${this.path} failed: ${why}; the previous state file is kept, and saving is retried on the next change`;
      process.emitWarning(`corral: ${message}`);
      this.onProblem?.(message);
    }
    this.failing = true;
  }

  private failing = false;

  /** Saves a last time and stops saving (daemon shutdown: what follows must not overwrite it). */
  freeze(): void {
    this.saveNow();
    this.frozen = true;
  }
}
