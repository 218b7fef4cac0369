// A program's output stream on disk. The child writes straight into the file (O_APPEND), not
// through the daemon, so nothing is lost while the daemon is busy or down. Logical offsets count
// every byte the stream ever held and never move; rotation (log-rotation.ts) cuts the head of the
// file into backups without losing a write, and every dropped range is remembered with its reason.
import { openSync, statSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describeResource, errnoOf } from "../resource-errors.js";
import type { BackupUsage, DroppedLog } from "./log-budget.js";
import { cutModeOf, type CutMode } from "./log-fallocate.js";
import { followLog } from "./log-follow.js";
import { gapsBetween, loadMeta, loadMetaSync, type LogMeta } from "./log-meta.js";
import { cutAll, dropBefore, recoverRotation, rotateInSteps, type StreamFiles } from "./log-rotation.js";
import { chain, listBackups, migrateNumbered, readAcross, sizeOf, sizeOfSync, type Backup, type Segment } from "./log-segments.js";
import { tailOffsetOf } from "./log-tail.js";
import { offsetBefore, TimeMarks } from "./log-time-marks.js";
import { OncePerTrouble, Turns } from "./log-turns.js";
import { LogWatch } from "./log-watch.js";
import type { LogChunk, LogConfig, LogGap, LogGapReason, LogStreamName } from "./types.js";

const READ_CAP = 1 << 20;
/** Used when the filesystem does not say (st_blksize); collapse and punch need block-aligned lengths. */
const DEFAULT_BLOCK = 4096;

export type LogRead = LogChunk & { first: number; end: number };

export class LogFile {
  readonly path: string;
  private readonly metaPath: string;
  private meta: LogMeta;
  private loaded?: Promise<void>;
  /** Rotation and the total cap's drops, one at a time in arrival order (log-turns.ts). */
  private readonly turns = new Turns();
  /** The chain's backups as last listed (they change only under exclusive(), which clears this: forgetBackups). */
  private backupList?: Backup[];
  /** Moves with each forgetBackups(): a listing that began before it is not kept (listedBackups). */
  private backupGeneration = 0;
  /** Rotations and drops done so far: lets segments() notice one that ran while it read sizes. */
  private changes = 0;
  /** When which offsets were written, for offsetSince (log-time-marks.ts). */
  private readonly timeMarks = new TimeMarks(() => this.endOffsetSync());

  constructor(
    dir: string,
    readonly program: string,
    readonly stream: LogStreamName,
    private config: LogConfig,
    /** The stream's name for users (a redirect_output label), in chunks and gaps; the file is named by `stream`. */
    public label: string = stream,
  ) {
    this.path = join(dir, `${program}.${stream}.log`);
    this.metaPath = join(dir, `.${program}.${stream}.meta.json`);
    // Read now, so endOffsetSync is right before any async use; a rotation a crash left
    // pending is finished or undone by load(), before anything reads.
    this.meta = loadMetaSync(this.metaPath);
    this.watch = new LogWatch(
      this.path,
      () => {
        this.timeMarks.note();
        this.onGrow?.(this);
      },
      () => (this.config.maxBytes > 0 ? () => void this.rotateIfDue() : undefined),
    );
  }

  setConfig(config: LogConfig): void {
    this.config = config;
  }

  private get files(): StreamFiles {
    return { path: this.path, metaPath: this.metaPath, meta: this.meta };
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      this.meta = await loadMeta(this.metaPath);
      await migrateNumbered(this.path, this.meta.base + this.meta.head);
      await this.settle().catch(() => undefined);
    })();
    return this.loaded;
  }

  /** Finishes or undoes a rotation left under way (by a crash, or one that failed half-way). */
  private async settle(): Promise<void> {
    if (this.meta.rotation) {
      const recovered = await recoverRotation(this.files).catch((error: unknown) => {
        this.problem(`${this.path}: recovering a rotation failed (tried again at the next rotation): ${String(error)}`);
        throw error;
      });
      if (recovered) this.onProblem?.(recovered);
    }
    // Copies a crashed rotation made before it said so in the meta file (or a failed one could
    // not remove): never part of the stream. Looked for once after start-up and after a failure,
    // not at every rotation (a listing of the directory each time).
    if (!this.strayPartials) return;
    for (const partial of (await listBackups(this.path)).partials) await rm(partial, { force: true });
    this.strayPartials = false;
  }
  /** Whether `.partial` copies may be lying around: at start-up, and after a rotation failed. */
  private strayPartials = true;

  /** The logical offset of the current file's first byte (rotation moves it). */
  get fileStartOffset(): number {
    return this.meta.base;
  }

  /** The logical end offset now, read synchronously (used to mark where a new run's output begins). */
  endOffsetSync(): number {
    try {
      return this.meta.base + statSync(this.path).size;
    } catch {
      return this.meta.base + this.meta.head;
    }
  }

  /** Opens the file for the child to append to; the caller closes the fd after spawn. */
  openForChild(): number {
    return openSync(this.path, "a", 0o640);
  }

  private forgetBackups(): void {
    this.backupList = undefined;
    this.backupGeneration++;
  }

  /**
   * The backups, listed once until they change. A listing that a change overtook is used by its
   * caller only (segments() then looks again): kept, it would hide the backups the change made
   * from every later read, as a gap, until the next rotation (seen under 100 fast writers).
   */
  private async listedBackups(): Promise<Backup[]> {
    if (this.backupList) return this.backupList;
    const generation = this.backupGeneration;
    const { backups } = await listBackups(this.path);
    if (generation === this.backupGeneration) this.backupList = backups;
    return backups;
  }

  /**
   * The kept segments with their logical offsets, oldest first. A rotation moves bytes between
   * files and then the offsets, so a view taken while one runs could be torn: wait for it, and
   * take the view again if one ran while it was being taken.
   */
  private async segments(): Promise<Segment[]> {
    await this.load();
    for (;;) {
      if (this.turns.current) await this.turns.current.catch(() => undefined);
      const before = this.changes;
      const segments = await this.segmentsNow();
      if (!this.turns.current && this.changes === before) return segments;
    }
  }

  /** The segments as the files are now (callers make sure nothing moves them). */
  private async segmentsNow(): Promise<Segment[]> {
    const { base, head } = this.meta;
    // One stat(2) of a local file, not a thread-pool round trip: every follower's read starts here (SYNC_READ_MAX).
    const size = sizeOfSync(this.path);
    return chain({ path: this.path, start: base + head, size: Math.max(0, size - head), physical: head }, await this.listedBackups());
  }

  async bounds(): Promise<{ first: number; end: number }> {
    const segments = await this.segments();
    const last = segments[segments.length - 1];
    return { first: segments[0].start, end: last.start + last.size };
  }

  /** The dropped ranges in [from, to) (reported below the first kept offset only). */
  gaps(from: number, to: number): LogGap[] {
    return to > from ? gapsBetween(this.meta, this, from, to) : [];
  }

  /** Reads up to maxBytes from a logical offset (clamped to what is still kept; what was dropped before it is in gaps). */
  async read(offset: number, maxBytes = READ_CAP): Promise<LogRead> {
    const segments = await this.segments();
    const want = Math.min(Math.max(maxBytes, 0) || READ_CAP, READ_CAP);
    const { data, offset: startOffset, first, end } = await readAcross(segments, offset, want);
    const gaps = this.gaps(offset, startOffset);
    return { stream: this.stream, label: this.label, offset: startOffset, data, time: new Date(), first, end, ...(gaps.length ? { gaps } : {}) };
  }

  /** The logical offset of the first byte written at or after sinceMs, or an earlier one (log-time-marks.ts). */
  async offsetSince(sinceMs: number): Promise<number> {
    const segments = await this.segments();
    const current = await stat(this.path).catch(() => undefined);
    const dated = [...(this.backupList ?? []).map((b) => ({ timeMs: b.mtimeMs, offset: b.start + b.size })), ...this.timeMarks.all()];
    if (current) dated.push({ timeMs: current.mtimeMs, offset: this.meta.base + current.size });
    return offsetBefore(sinceMs, segments, dated);
  }

  /** Where the last `lines` lines begin, and the end they were counted up to (later writes are not among them). */
  async tailRange(lines: number): Promise<{ offset: number; end: number }> {
    const bounds = await this.bounds();
    return { offset: await tailOffsetOf((offset, max) => this.read(offset, max), bounds, lines), end: bounds.end };
  }

  /** Told whenever the file may have grown (the total cap across programs listens: log-budget.ts). */
  onGrow?: (file: LogFile) => void;
  /** While the total cap runs a round of drops, what a rotation step waits for before it begins (LogBudget.hold). */
  rotationHold?: () => Promise<void> | undefined;
  /** The rotation check that waits for the total cap's round (one per file, however many asked). */
  private afterHold?: Promise<void>;
  /** inotify on the file, for followers and rotation checks (log-watch.ts). */
  readonly watch: LogWatch;

  /** Watches the file while a run writes to it or someone follows it. */
  startWatching(): void {
    this.watch.start();
    // What was written before the watch began is dated now at the latest (a write the watcher
    // never saw, e.g. before a daemon restart, would otherwise have no time at all).
    this.timeMarks.note(true);
  }

  stopWatching(): void {
    this.watch.stop();
  }

  /** Set while a run writes to the file, so followers leaving do not stop rotation checks. */
  set keepWatching(keep: boolean) {
    this.watch.keepWatching = keep;
  }

  /** Yields new bytes from a logical offset as they are written, until signal aborts (log-follow.ts). */
  follow(fromOffset: number, signal?: AbortSignal): AsyncGenerator<LogChunk> {
    return followLog(this.watch, (offset, max) => this.read(offset, max), fromOffset, signal);
  }

  /**
   * Rotation check on demand (after a run ends, and from the watcher). A check asked for while
   * a rotation runs is done right after it, so the last output of a run is never left unrotated.
   * Never rejects: a rotation that fails (disk full...) is reported through onProblem, and tried again later.
   */
  async rotateIfDue(): Promise<void> {
    if (this.config.maxBytes <= 0) return;
    if (this.turns.current) {
      this.checkAgain = true;
      return this.turns.current;
    }
    // Most checks (every run's end) find nothing due: one stat (synchronous: the promise and
    // threadpool round trip cost more than the stat), outside exclusive(), whose end drops the
    // cached backup list, and without settle()'s listing of the log directory (a stop-all of 500
    // listed its 2000 files 2000 times). Nothing holds the file's turn here, so nothing moves
    // its head meanwhile; what settle() clears up matters before a rotation writes, or while
    // one is left under way.
    if (this.meta.rotation === undefined && (statSync(this.path, { throwIfNoEntry: false })?.size ?? 0) - this.meta.head < this.config.maxBytes) return;
    if (this.afterHold) return this.afterHold;
    const held = this.rotationHold?.();
    if (held) {
      this.afterHold = held.then(() => {
        this.afterHold = undefined;
        return this.rotateIfDue();
      });
      return this.afterHold;
    }
    await this.exclusive(async () => {
      await this.settle();
      const size = await sizeOf(this.path);
      if (size - this.meta.head < this.config.maxBytes) return;
      const cut = await this.cutMode();
      if (cut.mode === "none") {
        this.problem(
          `${this.path} cannot be rotated: its filesystem supports neither collapse-range nor punch-hole (${cut.why}); it grows past max_bytes, nothing is dropped`,
        );
        return;
      }
      const yielded = await rotateInSteps(
        this.files,
        size,
        { mode: cut.mode, blockSize: cut.blockSize, maxBytes: this.config.maxBytes, backups: this.config.backups },
        (dropped) => {
          this.forgetBackups();
          this.onGrow?.(this);
          if (dropped) this.onProblem?.(dropped);
          else this.problemSolved();
        },
        () => this.turns.contended || this.rotationHold?.() !== undefined,
      );
      // Steps left for after the turn that waits (exclusive() runs the check again then).
      if (yielded) this.checkAgain = true;
    }).catch((error: unknown) =>
      this.problem(`rotating ${this.path} failed: ${describeResource(errnoOf(error)) ?? (error instanceof Error ? error.message : String(error))}`),
    );
  }
  private checkAgain = false;

  private async cutMode(): Promise<{ mode: CutMode; why?: string; blockSize: number }> {
    const blockSize = (await stat(this.path).catch(() => undefined))?.blksize || DEFAULT_BLOCK;
    return { ...(await cutModeOf(dirname(this.path), blockSize)), blockSize };
  }

  /** Told about trouble with this file (an event in the journal); once per kind of trouble until it is over. */
  onProblem?: (message: string) => void;
  private readonly trouble = new OncePerTrouble((message) => this.onProblem?.(message));

  private problem(message: string): void {
    this.trouble.report(message);
  }

  private problemSolved(): void {
    this.trouble.over(`rotating ${this.path} works again`);
  }

  /**
   * Runs fn alone: rotation and the total cap's drops move bytes between files and offsets, and
   * readers (segments()) wait for `rotating` and notice `changes` moving.
   */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.turns.take(async () => {
        try {
          await this.load();
          return await fn();
        } catch (error) {
          this.strayPartials = true;
          throw error;
        } finally {
          // Before the next turn starts: readers that raced this one see `changes` move.
          this.forgetBackups();
          this.changes++;
        }
      });
    } finally {
      // A rotation check asked for while something else held the lock is done now.
      if (this.checkAgain && !this.turns.current) {
        this.checkAgain = false;
        void this.rotateIfDue();
      }
    }
  }

  /**
   * Bytes on disk: the current file's kept bytes (stat'ed each time, synchronously as a read's
   * segmentsNow does: the total cap counts each file that grew and each run's files at its end,
   * and a stop-all of 500 made 1000 thread-pool round trips for these stats) and the kept
   * backups, oldest first.
   */
  async diskUsage(): Promise<{ current: number; backups: BackupUsage[] }> {
    await this.load();
    const current = Math.max(0, sizeOfSync(this.path) - this.meta.head);
    const backups = await this.listedBackups();
    return { current, backups: backups.map(({ start, size, mtimeMs }) => ({ start, size, mtimeMs })) };
  }

  /**
   * Removes the oldest backup, for the total cap. Its bytes are the oldest this stream still
   * had, so the readable range just starts later: offsets are unchanged.
   */
  async dropOldestBackup(reason: LogGapReason = "max_total"): Promise<DroppedLog | undefined> {
    return this.exclusive(async () => {
      const segments = await this.segmentsNow();
      const { backups } = await listBackups(this.path);
      if (backups.length === 0) return undefined;
      const oldest = backups[0];
      await dropBefore(this.files, oldest.start + oldest.size, reason);
      const first = Math.min(oldest.start, segments[0].start);
      return { path: oldest.path, bytes: oldest.size, fromOffset: first, toOffset: oldest.start + oldest.size };
    });
  }

  /**
   * Cuts the current file down to its last partial block (and removes every backup, all older),
   * for the total cap when no backup is left anywhere. The cut loses no write and its offsets are
   * exact (log-rotation.ts); a reader of them is told they were dropped by the cap.
   */
  async dropCurrent(): Promise<DroppedLog | undefined> {
    return this.exclusive(async () => {
      const cut = await this.cutMode();
      if (cut.mode === "none") return undefined;
      await this.settle();
      const first = (await this.segmentsNow())[0].start;
      const dropTo = await cutAll(this.files, await sizeOf(this.path), cut.mode, cut.blockSize, "max_total");
      return dropTo === undefined ? undefined : { path: this.path, bytes: dropTo - first, fromOffset: first, toOffset: dropTo };
    });
  }
}
