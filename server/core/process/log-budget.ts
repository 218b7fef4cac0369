// The total cap on all programs' log files together (server.logs.max_total): per-program
// rotation bounds each stream, this bounds their sum. When over, the oldest backups across all
// programs go first; when no backup is left, current files are cut down to their last partial
// block, largest first (the same lossless cut as rotation). Logical offsets never change, and
// every drop is remembered with its offsets, so a reader of dropped data is told what went and why.
import { failpointDelay } from "../failpoints.js";
import type { LogFile } from "./log-file.js";

/** A backup as the total cap sees it (log-budget.ts). */
export interface BackupUsage {
  /** Logical offset of its first byte (also its name: <stream>.log.<offset>). */
  start: number;
  size: number;
  mtimeMs: number;
}

/** What the total cap removed from one stream: the logical offsets it held. */
export interface DroppedLog {
  path: string;
  bytes: number;
  fromOffset: number;
  toOffset: number;
}

/** After a failed check (the disk, fds...), the next try waits this long: no growth may come to wake it. */
const RETRY_MS = 1000;

/** While the logs are more than this fraction under the cap, a check may wait RELAXED_MS for more events. */
const RELAXED_HEADROOM = 0.1;
const RELAXED_MS = 10;

export const DEFAULT_LOG_MAX_TOTAL_BYTES = 2 ** 30;

export interface LogBudgetOptions {
  /** 0: no total cap. */
  maxTotalBytes: number;
  /** Every log file of every program now. */
  files: () => Iterable<LogFile>;
  /** Says what was dropped (an event in the program's journal). */
  report: (file: LogFile, dropped: DroppedLog, why: string) => void;
}

/**
 * The check is driven by growth, not by a timer: every inotify event on a log file (log-watch.ts)
 * re-reads that file's usage (one stat; its backups are cached) into a running total, and when the
 * total is over the cap the drops run at once, in the next turn of the event loop (more than 10 %
 * under the cap, a check waits up to 10 ms to count more events at once). So the logs exceed the
 * cap by at most what programs write while the daemon cannot run (one check, or anything else
 * holding its event loop), plus the copies rotations have in flight (one chunk per rotating
 * stream: log-rotation.ts), plus block rounding: README "Logs", "How much disk".
 */
export class LogBudget {
  private scheduled = false;
  private checking = false;
  private retry?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private lastFailure?: string;
  /** Each file's bytes (kept current + backups) when last looked at, and their sum. */
  private readonly usage = new Map<LogFile, number>();
  private total = 0;
  /** Files that grew since the last check; `everything`: recount all (start-up, a run ended, a failure). */
  private readonly grown = new Set<LogFile>();
  private everything = true;
  /** What rotations wait for while a round of drops is due or under way (hold()): one per round. */
  private held?: { round: Promise<void>; resume: () => void };

  constructor(private readonly options: LogBudgetOptions) {}

  get enabled(): boolean {
    return this.options.maxTotalBytes > 0;
  }

  /**
   * A log file may have grown (or every file, with no argument): counted in the next turn of the
   * event loop (within 10 ms when far under the cap), and the cap enforced then if the total is
   * over it. Many events coalesce into one check.
   */
  noteGrowth = (file?: LogFile): void => {
    if (!this.enabled) return;
    if (file) this.grown.add(file);
    else this.everything = true;
    this.schedule();
  };

  /**
   * Undefined while no round of drops is due; else settles when the round ends. A rotation step
   * waits for it before it begins (log-file.ts): the steps turn current bytes into backups, and
   * while a round is planned and run, steps elsewhere would make backups the round no longer
   * sees. Without the wait, the bound on backups and copies (README "How much disk": cap + one
   * copy in flight + one backup per stream) held only while a round ended before any file rotated
   * twice; with the rounds slowed (a held event loop, a slow disk) backups reached 29 MiB against
   * the stated 16.9 MiB. A round that fails releases the waiters (rotation must not stop with
   * the cap), as does a total back under the cap.
   */
  hold = (): Promise<void> | undefined => {
    if (!this.holding) return undefined;
    if (!this.held) {
      let resume!: () => void;
      const round = new Promise<void>((resolve) => (resume = resolve));
      this.held = { round, resume };
    }
    return this.held.round;
  };

  private get holding(): boolean {
    return this.enabled && (this.running !== undefined || ((this.scheduled || this.checking) && this.total > this.options.maxTotalBytes));
  }

  private release(force = false): void {
    if (!this.held || (this.holding && !force)) return;
    this.held.resume();
    this.held = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.check()
        .catch((error: unknown) => {
          // Tried again after a while: the programs may have stopped writing, and no growth
          // would ever wake the check again. Said once per kind of failure.
          const message = `corral: enforcing server.logs.max_total failed (tried again in ${RETRY_MS} ms): ${error instanceof Error ? error.message : String(error)}`;
          if (message !== this.lastFailure) process.emitWarning(message);
          this.lastFailure = message;
          this.everything = true;
          if (this.retry) return;
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.noteGrowth();
          }, RETRY_MS);
          this.retry.unref();
        })
        .finally(() => this.release());
    };
    // Far under the cap, the events of the next few milliseconds are counted together: a
    // firehose of 64 KiB writes made one stat per write (a quarter of a second of daemon CPU per
    // 200 MB), and only a write rate of (cap - total) / RELAXED_MS could cross the cap meanwhile.
    if (this.everything || this.total > this.options.maxTotalBytes * (1 - RELAXED_HEADROOM)) setImmediate(run).unref();
    else setTimeout(run, RELAXED_MS).unref();
  }

  /** Recounts what grew; enforces the cap when the running total is over it. One at a time. */
  private async check(): Promise<void> {
    if (this.checking || this.running) {
      // Growth seen during a check is counted right after it.
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      const recount = this.everything ? [...this.options.files()] : [...this.grown];
      if (this.everything) {
        this.usage.clear();
        this.total = 0;
      }
      this.everything = false;
      this.grown.clear();
      await Promise.all(recount.map((file) => this.count(file)));
      if (this.total > this.options.maxTotalBytes) await this.enforce();
    } finally {
      this.checking = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  private async count(file: LogFile): Promise<void> {
    const u = await file.diskUsage();
    const bytes = u.current + u.backups.reduce((s, b) => s + b.size, 0);
    this.total += bytes - (this.usage.get(file) ?? 0);
    this.usage.set(file, bytes);
  }

  /** One full check now: every file recounted, the cap enforced (a check already running is followed by one more, not run twice at once). */
  async enforce(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.enforceOnce();
    try {
      await this.running;
    } finally {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
      this.release();
    }
  }

  private async enforceOnce(): Promise<void> {
    const cap = this.options.maxTotalBytes;
    const files = [...this.options.files()];
    const usage = await Promise.all(files.map(async (file) => ({ file, ...(await file.diskUsage()) })));
    let total = usage.reduce((sum, u) => sum + u.current + u.backups.reduce((s, b) => s + b.size, 0), 0);
    this.usage.clear();
    for (const u of usage) this.usage.set(u.file, u.current + u.backups.reduce((s, b) => s + b.size, 0));
    this.total = total;
    // What the drops below remove is recounted with the files' next growth, or after the drops.
    this.everything = true;
    if (!this.enabled || total <= cap) {
      this.everything = false;
      return;
    }
    const why = (bytes: number) => `all logs took ${bytes} bytes, over server.logs.max_total=${cap}`;
    // A slow round (a loaded disk, a held event loop), for the test of hold().
    await failpointDelay("log-budget-round-delay-ms");

    // Oldest first across programs: a file's highest-numbered backup is its oldest. What goes is
    // chosen first, then dropped file by file in parallel (in order within a file): one at a time,
    // a loaded daemon took seconds per drop while the programs kept writing.
    const backups = usage.flatMap((u) => u.backups.map((b) => ({ file: u.file, ...b }))).sort((a, b) => a.mtimeMs - b.mtimeMs || a.start - b.start);
    const chosen = new Map<LogFile, number>();
    let planned = total;
    for (const backup of backups) {
      if (planned <= cap) break;
      planned -= backup.size;
      chosen.set(backup.file, (chosen.get(backup.file) ?? 0) + 1);
    }
    const dropped = async (file: LogFile, drop: () => Promise<DroppedLog | undefined>) => {
      const before = total;
      const gone = await drop();
      if (!gone) return false;
      total -= gone.bytes;
      this.options.report(file, gone, why(before));
      return true;
    };
    await Promise.all(
      [...chosen].map(async ([file, count]) => {
        for (let i = 0; i < count; i++) if (!(await dropped(file, () => file.dropOldestBackup()))) break;
      }),
    );

    // No backup left anywhere and still over: empty the largest current files.
    const currents = usage.filter((u) => u.current > 0).sort((a, b) => b.current - a.current);
    const cut: LogFile[] = [];
    planned = total;
    for (const { file, current } of currents) {
      if (planned <= cap) break;
      planned -= current;
      cut.push(file);
    }
    await Promise.all(cut.map((file) => dropped(file, () => file.dropCurrent())));
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.release(true);
  }
}
