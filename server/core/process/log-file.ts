// A program's output stream on disk. The child writes straight into the file (O_APPEND), not
// through the daemon, so nothing is lost while the daemon is busy or down. The daemon rotates
// by size (copy, then truncate) and keeps logical offsets, which count every byte the stream
// ever held, so readers' offsets stay valid across rotations.
import { watch, type FSWatcher } from "node:fs";
import { appendFile, copyFile, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { closeSync, openSync, readSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { describeResource, errnoOf, isResourceError, resourceError } from "../resource-errors.js";
import type { LogChunk, LogConfig, LogStreamName } from "./types.js";

const READ_CAP = 1 << 20;
const TAIL_BLOCK = 64 * 1024;
/** At most one size check per file in this interval, however chatty the program. */
const ROTATE_CHECK_MS = 100;
/** A rotation copies asynchronously until at most this much is left, then finishes synchronously. */
const SYNC_TAIL_BYTES = 256 * 1024;

export interface BackupUsage {
  /** The backup's number: <stream>.log.<n>, 1 the newest. */
  n: number;
  size: number;
  mtimeMs: number;
}

/** What the total cap removed from one stream: the file and the logical offsets it held. */
export interface DroppedLog {
  path: string;
  bytes: number;
  fromOffset: number;
  toOffset: number;
}

interface Segment {
  path: string;
  /** Logical offset of the segment's first byte. */
  start: number;
  size: number;
}

export class LogFile {
  readonly path: string;
  private readonly metaPath: string;
  /** Logical offset of the current file's first byte. */
  private base = 0;
  private loaded?: Promise<void>;
  private watcher?: FSWatcher;
  private readonly listeners = new Set<() => void>();
  private rotating?: Promise<void>;
  private lastRotateCheck = 0;

  constructor(
    dir: string,
    readonly program: string,
    readonly stream: LogStreamName,
    private config: LogConfig,
  ) {
    this.path = join(dir, `${program}.${stream}.log`);
    this.metaPath = join(dir, `.${program}.${stream}.meta.json`);
  }

  setConfig(config: LogConfig): void {
    this.config = config;
  }

  private async load(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        const meta = JSON.parse(await readFile(this.metaPath, "utf8")) as { base?: unknown };
        if (typeof meta.base === "number" && meta.base >= 0) this.base = meta.base;
      } catch {
        // No meta yet: the stream was never rotated.
      }
    })();
    return this.loaded;
  }

  /** The logical end offset now, read synchronously (used to mark where a new run's output begins). */
  endOffsetSync(): number {
    try {
      return this.base + statSync(this.path).size;
    } catch {
      return this.base;
    }
  }

  /** Opens the file for the child to append to; the caller closes the fd after spawn. */
  openForChild(): number {
    return openSync(this.path, "a", 0o640);
  }

  static closeFd(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  private backupPath(n: number): string {
    return `${this.path}.${n}`;
  }

  /**
   * The kept segments with their logical offsets. A rotation moves bytes between files and
   * then the base, so a view taken while one runs can be torn (new size, old base): wait for
   * it, and take the view again if a rotation ran while it was being taken.
   */
  private async segments(): Promise<Segment[]> {
    await this.load();
    for (;;) {
      if (this.rotating) await this.rotating.catch(() => undefined);
      const rotationsBefore = this.rotations;
      const segments = await this.segmentsNow();
      if (!this.rotating && this.rotations === rotationsBefore) return segments;
    }
  }

  /** The segments as the files are now, oldest first (callers make sure nothing moves them). */
  private async segmentsNow(): Promise<Segment[]> {
    const current = await sizeOf(this.path);
    const segments: Segment[] = [{ path: this.path, start: this.base, size: current }];
    let start = this.base;
    for (let n = 1; n <= this.config.backups; n++) {
      const size = await sizeOf(this.backupPath(n), -1);
      if (size < 0) break;
      start -= size;
      if (start < 0) break;
      segments.unshift({ path: this.backupPath(n), start, size });
    }
    return segments;
  }

  /** Rotations done so far: lets segments() notice one that ran while it was reading sizes. */
  private rotations = 0;

  async bounds(): Promise<{ first: number; end: number }> {
    const segments = await this.segments();
    const last = segments[segments.length - 1];
    return { first: segments[0].start, end: last.start + last.size };
  }

  /** Reads up to maxBytes from a logical offset (clamped to what is still kept). */
  async read(offset: number, maxBytes = READ_CAP): Promise<LogChunk & { first: number; end: number }> {
    const segments = await this.segments();
    const first = segments[0].start;
    const lastSeg = segments[segments.length - 1];
    const end = lastSeg.start + lastSeg.size;
    let position = Math.max(offset, first);
    const want = Math.min(Math.max(maxBytes, 0) || READ_CAP, READ_CAP);
    const parts: Buffer[] = [];
    let got = 0;
    for (const segment of segments) {
      if (got >= want) break;
      const segEnd = segment.start + segment.size;
      if (position >= segEnd) continue;
      const from = position - segment.start;
      const length = Math.min(segEnd - position, want - got);
      const data = await readRange(segment.path, from, length);
      parts.push(data);
      got += data.length;
      position += data.length;
      if (data.length < length) break; // truncated under us by a rotation: stop here
    }
    const startOffset = Math.max(offset, first);
    // One part (the usual case) is returned as read: Buffer.concat would copy it once more.
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts, got);
    return { stream: this.stream, offset: startOffset, data, time: new Date(), first, end };
  }

  /** The logical offset where the last `lines` lines begin. */
  async tailOffset(lines: number): Promise<number> {
    const segments = await this.segments();
    const first = segments[0].start;
    const lastSeg = segments[segments.length - 1];
    const end = lastSeg.start + lastSeg.size;
    if (lines <= 0) return end;
    let position = end;
    let newlines = 0;
    let skipTrailing = true;
    while (position > first) {
      const blockStart = Math.max(first, position - TAIL_BLOCK);
      const { data } = await this.read(blockStart, position - blockStart);
      for (let i = data.length - 1; i >= 0; i--) {
        if (data[i] === 10) {
          if (skipTrailing && blockStart + i === end - 1) continue; // the final newline ends the last line
          newlines++;
          if (newlines === lines) return blockStart + i + 1;
        }
        skipTrailing = false;
      }
      if (data.length === 0) break;
      position = blockStart;
    }
    return first;
  }

  /** Called whenever the file may have grown: notifies followers and rotates when due. */
  private onChange = (): void => {
    for (const listener of this.listeners) listener();
    this.onGrow?.();
    if (this.config.maxBytes <= 0 || this.rotateTimer) return;
    const wait = this.lastRotateCheck + ROTATE_CHECK_MS - Date.now();
    const check = () => {
      this.rotateTimer = undefined;
      this.lastRotateCheck = Date.now();
      void this.rotateIfDue();
    };
    // Throttled with a trailing check, so the last burst of a quiet program is also seen.
    if (wait <= 0) check();
    else this.rotateTimer = setTimeout(check, wait);
  };
  private rotateTimer?: NodeJS.Timeout;
  /** Told whenever the file may have grown (the total cap across programs listens: log-budget.ts). */
  onGrow?: () => void;

  /** Watches the file (inotify) while a run writes to it or someone follows it. */
  startWatching(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.path, { persistent: false }, this.onChange);
      this.watcher.on("error", () => this.stopWatching());
    } catch {
      this.watcher = undefined;
    }
  }

  stopWatching(): void {
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Rotation check on demand (after a run ends, and from the watcher). */
  /** Never rejects: a rotation that fails (disk full...) is reported through onProblem, and tried again later. */
  async rotateIfDue(): Promise<void> {
    if (this.rotating) return this.rotating;
    if (this.config.maxBytes <= 0) return;
    return this.exclusive(async () => {
      const size = await sizeOf(this.path);
      if (size < this.config.maxBytes) return;
      await this.rotate();
      this.problemSolved();
    }).catch((error: unknown) => this.problem(`rotating ${this.path} failed: ${describeResource(errnoOf(error)) ?? (error instanceof Error ? error.message : String(error))}`));
  }

  /** Told about trouble with this file (an event in the journal); once per kind of trouble until it is over. */
  onProblem?: (message: string) => void;
  private lastProblem?: string;

  private problem(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.onProblem?.(message);
  }

  private problemSolved(): void {
    if (this.lastProblem === undefined) return;
    this.lastProblem = undefined;
    this.onProblem?.(`rotating ${this.path} works again`);
  }

  /**
   * Runs fn alone: rotation and the total cap's drops move bytes between files and the base,
   * and readers (segments()) wait for `rotating` and notice `rotations` changing.
   */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.rotating) await this.rotating.catch(() => undefined);
    let done!: () => void;
    this.rotating = new Promise<void>((resolve) => (done = resolve));
    try {
      await this.load();
      return await fn();
    } finally {
      this.backupUsage = undefined;
      this.rotating = undefined;
      done();
    }
  }

  /** Backups as last seen (they change only under exclusive(), which clears this). */
  private backupUsage?: BackupUsage[];

  /** Bytes on disk: the current file (stat'ed each time) and the kept backups, newest first. */
  async diskUsage(): Promise<{ current: number; backups: BackupUsage[] }> {
    const current = await sizeOf(this.path);
    if (!this.backupUsage) {
      const backups: BackupUsage[] = [];
      for (let n = 1; n <= this.config.backups; n++) {
        try {
          const info = await stat(this.backupPath(n));
          backups.push({ n, size: info.size, mtimeMs: info.mtimeMs });
        } catch {
          break;
        }
      }
      this.backupUsage = backups;
    }
    return { current, backups: this.backupUsage };
  }

  /**
   * Removes the oldest kept backup (the highest number), for the total cap. Its bytes are the
   * oldest this stream still had, so the readable range just starts later: offsets are unchanged.
   */
  async dropOldestBackup(): Promise<DroppedLog | undefined> {
    return this.exclusive(async () => {
      const segments = await this.segmentsNow();
      if (segments.length < 2) return undefined;
      const oldest = segments[0];
      await rm(oldest.path, { force: true });
      this.rotations++;
      return { path: oldest.path, bytes: oldest.size, fromOffset: oldest.start, toOffset: oldest.start + oldest.size };
    });
  }

  /**
   * Empties the current file (and any backup, all older), for the total cap when no backup is
   * left anywhere. The base moves past the dropped bytes, so offsets stay logical: a reader of
   * them is clamped to the first kept byte, as after a rotation. Bytes written between the size
   * check and the truncate would be lost uncounted: both are synchronous, back to back, so that
   * window is two system calls long.
   */
  async dropCurrent(): Promise<DroppedLog | undefined> {
    return this.exclusive(async () => {
      const segments = await this.segmentsNow();
      const first = segments[0].start;
      for (const segment of segments.slice(0, -1)) await rm(segment.path, { force: true });
      let size: number;
      try {
        size = statSync(this.path).size;
        if (size > 0) truncateSync(this.path, 0);
      } catch {
        size = 0;
      }
      if (size === 0 && segments.length === 1) return undefined;
      this.base += size;
      this.rotations++;
      await writeFile(this.metaPath, JSON.stringify({ base: this.base }));
      return { path: this.path, bytes: this.base - first, fromOffset: first, toOffset: this.base };
    });
  }

  /**
   * copytruncate: the child keeps its fd, so the file cannot be renamed away. The bulk is copied
   * asynchronously; the last bytes are read to end of file and the file truncated right after,
   * synchronously, so only a write landing between those two system calls could be lost.
   */
  private async rotate(): Promise<void> {
    let backups = this.config.backups;
    let copied = 0;
    if (backups > 0) {
      await rm(this.backupPath(backups), { force: true });
      for (let n = backups - 1; n >= 1; n--) {
        await rename(this.backupPath(n), this.backupPath(n + 1)).catch(() => undefined);
      }
      try {
        await copyFile(this.path, this.backupPath(1));
        copied = await sizeOf(this.backupPath(1));
        // Catch up with what a fast writer added meanwhile, until little is left for the sync step.
        for (let now = await sizeOf(this.path); now - copied > SYNC_TAIL_BYTES; now = await sizeOf(this.path)) {
          const more = await readRange(this.path, copied, now - copied);
          if (more.length === 0) break;
          await appendFile(this.backupPath(1), more);
          copied += more.length;
        }
      } catch (error) {
        // A partial backup would put bytes at the wrong offsets: remove it, and move the
        // others back, so the kept files line up again (renames need no space).
        await rm(this.backupPath(1), { force: true });
        for (let n = 1; n < backups; n++) await rename(this.backupPath(n + 1), this.backupPath(n)).catch(() => undefined);
        if (errnoOf(error) !== "ENOSPC" && errnoOf(error) !== "EDQUOT") throw error;
        // Disk full: the file is over max_bytes and there is no room for a copy. Rotate it
        // without one, so the program's next output has room and the disk is not stuck full.
        // The older backups go too: kept after a gap, their offsets would be wrong.
        const segments = await this.segmentsNow();
        for (const segment of segments.slice(0, -1)) await rm(segment.path, { force: true });
        const first = segments[0].start;
        const size = sizeOfSync(this.path);
        // Always said: each such rotation drops data.
        this.onProblem?.(
          `rotating ${this.path}: ${describeResource(errnoOf(error))} while copying it to ${this.backupPath(1)}; rotated without a backup: dropped ${this.base + size - first} bytes (offsets ${first}-${this.base + size}, the backups included)`,
        );
        backups = 0;
        copied = 0;
      }
    }
    const tail = backups > 0 ? readToEndSync(this.path, copied) : Buffer.alloc(0);
    const dropped = backups > 0 ? 0 : sizeOfSync(this.path);
    truncateSync(this.path, 0);
    // Room was just freed by the truncate, so this append normally succeeds; if it fails the
    // bytes are lost but the offsets stay right (the base counts them).
    if (tail.length > 0) await appendFile(this.backupPath(1), tail).catch((error: unknown) => this.problem(`rotating ${this.path}: appending the last ${tail.length} bytes to ${this.backupPath(1)} failed: ${describeResource(errnoOf(error)) ?? String(error)}`));
    this.base += copied + tail.length + dropped;
    this.rotations++;
    await writeFile(this.metaPath, JSON.stringify({ base: this.base }));
  }

  /**
   * Yields new bytes from a logical offset as they are written, until signal aborts.
   * Woken by inotify; a slow timer backs it up in case an event is missed.
   */
  async *follow(fromOffset: number, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    let position = fromOffset;
    let wake: (() => void) | undefined;
    let pending = true;
    const listener = () => {
      pending = true;
      wake?.();
    };
    const onAbort = () => wake?.();
    this.listeners.add(listener);
    signal?.addEventListener("abort", onAbort);
    const hadWatcher = this.watcher !== undefined;
    this.startWatching();
    /** A first read succeeded: later resource errors are waited out, not thrown. */
    let reading = false;
    try {
      while (!signal?.aborted) {
        if (!pending) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            const timer = setTimeout(resolve, 1000);
            timer.unref();
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
          if (signal?.aborted) break;
        }
        pending = false;
        // Drain everything available now.
        for (;;) {
          let chunk: Awaited<ReturnType<LogFile["read"]>>;
          try {
            chunk = await this.read(position, READ_CAP);
          } catch (error) {
            // Out of fds for a moment: a follower already under way tries again on the next
            // wake-up (the bytes wait on disk at their offsets); a new one is told at once.
            if (!reading || !isResourceError(error)) throw error;
            break;
          }
          reading = true;
          if (chunk.offset > position) position = chunk.offset; // rotated past us
          if (chunk.data.length === 0) break;
          position = chunk.offset + chunk.data.length;
          yield { stream: chunk.stream, offset: chunk.offset, data: chunk.data, time: chunk.time };
          if (signal?.aborted) return;
        }
        // The watcher can die when the file is recreated; re-arm it.
        if (!this.watcher) this.startWatching();
      }
    } finally {
      this.listeners.delete(listener);
      signal?.removeEventListener("abort", onAbort);
      if (!hadWatcher && this.listeners.size === 0 && !this.keepWatching) this.stopWatching();
    }
  }

  /** Set while a run writes to the file, so followers leaving do not stop rotation checks. */
  keepWatching = false;
}

async function sizeOf(path: string, missing = 0): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return missing;
  }
}

function sizeOfSync(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Everything from position to end of file, read synchronously. */
function readToEndSync(path: string, position: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const parts: Buffer[] = [];
    // Bounded, so a writer outpacing the reads cannot hold the event loop (it never does in practice).
    for (let read = 0; read < 64 * 2 ** 20; ) {
      const buffer = Buffer.alloc(64 * 1024);
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      parts.push(buffer.subarray(0, n));
      position += n;
      read += n;
    }
    return Buffer.concat(parts);
  } finally {
    closeSync(fd);
  }
}

async function readRange(path: string, position: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    // Gone (a rotation moved it): nothing to read there. Out of fds: the reader must be told,
    // not handed an empty read that looks like "no new output".
    const resource = resourceError(error, "opening the log file", path);
    if (resource) throw resource;
    return Buffer.alloc(0);
  }
  try {
    // Not zero-filled: only the bytes read are handed out (subarray below), and a follower's
    // chunks can be a megabyte each.
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
