// Who hears that a log file grew: inotify on the file while a run writes to it or someone follows
// it, fanned out to followers at once and to the rotation check at most every ROTATE_CHECK_MS
// (with a trailing check, so the last burst of a quiet program is also seen).
import { watch, type FSWatcher } from "node:fs";

/** At most one size check per file in this interval, however chatty the program. */
const ROTATE_CHECK_MS = 100;

export class LogWatch {
  private watcher?: FSWatcher;
  private readonly listeners = new Set<() => void>();
  private rotateTimer?: NodeJS.Timeout;
  private lastRotateCheck = 0;
  /** Set while a run writes to the file, so followers leaving do not stop rotation checks. */
  keepWatching = false;

  constructor(
    private readonly path: string,
    /** Told at once whenever the file may have grown (the total cap listens: log-budget.ts). */
    private readonly onGrow: () => void,
    /** Told, throttled, that a rotation may be due (undefined: rotation is off). */
    private readonly rotateCheck: () => (() => void) | undefined,
  ) {}

  private onChange = (): void => {
    for (const listener of this.listeners) listener();
    this.onGrow();
    const check = this.rotateCheck();
    if (!check || this.rotateTimer) return;
    const wait = this.lastRotateCheck + ROTATE_CHECK_MS - Date.now();
    const run = () => {
      this.rotateTimer = undefined;
      this.lastRotateCheck = Date.now();
      check();
    };
    if (wait <= 0) run();
    else this.rotateTimer = setTimeout(run, wait);
  };

  start(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.path, { persistent: false }, this.onChange);
      this.watcher.on("error", () => this.stop());
    } catch {
      this.watcher = undefined;
    }
  }

  stop(): void {
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /** A follower (log-follow.ts) wants to hear of growth. */
  addListener(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** A follower left; the watch stops with the last one unless a run still writes or it was on before. */
  removeListener(listener: () => void, hadWatcher: boolean): void {
    this.listeners.delete(listener);
    if (!hadWatcher && this.listeners.size === 0 && !this.keepWatching) this.stop();
  }
}
