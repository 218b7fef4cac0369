// The total cap on all programs' log files together (server.logs.max_total): per-program
// rotation bounds each stream, this bounds their sum. When over, the oldest backups across all
// programs go first; when no backup is left, current files are cut down to their last partial
// block, largest first (the same lossless cut as rotation). Logical offsets never change, and
// every drop is remembered with its offsets, so a reader of dropped data is told what went and why.
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

/** At most one check in this interval while programs write; a trailing check sees the last burst. */
const CHECK_INTERVAL_MS = 1000;

export const DEFAULT_LOG_MAX_TOTAL_BYTES = 2 ** 30;

export interface LogBudgetOptions {
  /** 0: no total cap. */
  maxTotalBytes: number;
  /** Every log file of every program now. */
  files: () => Iterable<LogFile>;
  /** Says what was dropped (an event in the program's journal). */
  report: (file: LogFile, dropped: DroppedLog, why: string) => void;
}

export class LogBudget {
  private timer?: NodeJS.Timeout;
  private lastCheck = 0;
  private running?: Promise<void>;
  private again = false;
  private lastFailure?: string;

  constructor(private readonly options: LogBudgetOptions) {}

  get enabled(): boolean {
    return this.options.maxTotalBytes > 0;
  }

  /** A log file may have grown: check soon (throttled; no timer unless something grew). */
  noteGrowth = (): void => {
    if (!this.enabled || this.timer) return;
    const wait = Math.max(0, this.lastCheck + CHECK_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastCheck = Date.now();
      this.enforce().catch((error: unknown) => {
        // Tried again after the interval: the programs may have stopped writing, and no growth
        // would ever wake the check again. Said once per kind of failure.
        const message = `corral: enforcing server.logs.max_total failed (tried again in ${CHECK_INTERVAL_MS} ms): ${error instanceof Error ? error.message : String(error)}`;
        if (message !== this.lastFailure) process.emitWarning(message);
        this.lastFailure = message;
        this.noteGrowth();
      });
    }, wait);
    this.timer.unref();
  };

  /** One check now (a check already running is followed by one more, not run twice at once). */
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
        this.noteGrowth();
      }
    }
  }

  private async enforceOnce(): Promise<void> {
    const cap = this.options.maxTotalBytes;
    const files = [...this.options.files()];
    const usage = await Promise.all(files.map(async (file) => ({ file, ...(await file.diskUsage()) })));
    let total = usage.reduce((sum, u) => sum + u.current + u.backups.reduce((s, b) => s + b.size, 0), 0);
    if (!this.enabled || total <= cap) return;
    const why = (bytes: number) => `all logs took ${bytes} bytes, over server.logs.max_total=${cap}`;

    // Oldest first across programs: a file's highest-numbered backup is its oldest.
    const backups = usage.flatMap((u) => u.backups.map((b) => ({ file: u.file, ...b }))).sort((a, b) => a.mtimeMs - b.mtimeMs || a.start - b.start);
    for (const backup of backups) {
      if (total <= cap) break;
      const before = total;
      const gone = await backup.file.dropOldestBackup();
      if (!gone) continue;
      total -= gone.bytes;
      this.options.report(backup.file, gone, why(before));
    }

    // No backup left anywhere and still over: empty the largest current files.
    const currents = usage.filter((u) => u.current > 0).sort((a, b) => b.current - a.current);
    for (const { file } of currents) {
      if (total <= cap) break;
      const before = total;
      const gone = await file.dropCurrent();
      if (!gone) continue;
      total -= gone.bytes;
      this.options.report(file, gone, why(before));
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
