// The high-water mark of a sequenced log whose items are not kept on disk (the task signals): the
// last seq handed out, so the next daemon continues after it and a watcher resuming with a seq
// from before the restart is told those signals are gone instead of waiting for seqs reused.
//
// One fixed-width record rewritten in place with pwrite(2) for every item, before any watcher
// can see that item: one syscall per item, like the event journal's append, and a killed daemon
// loses nothing (the page cache keeps it). A value that does not parse counts as absent.
import { closeSync, constants, openSync, readFileSync, writeSync } from "node:fs";

/** 20 digits hold any safe integer; the padding keeps every record the same length. */
const RECORD_WIDTH = 21;

export class SeqFile {
  private fd?: number;
  private failing = false;

  constructor(readonly path: string) {}

  /** The last seq a previous daemon recorded (0: none, or unreadable). */
  load(): number {
    try {
      const seq = Number(readFileSync(this.path, "utf8").trim());
      return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
    } catch {
      return 0;
    }
  }

  record(seq: number): void {
    try {
      // Not truncated on open: a daemon killed between open and write keeps the old mark.
      this.fd ??= openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o600);
      writeSync(this.fd, `${String(seq).padStart(RECORD_WIDTH - 1, " ")}\n`, 0);
      if (this.failing) process.emitWarning(`corral: writing ${this.path} works again`);
      this.failing = false;
    } catch (error) {
      // Disk full or similar: the daemon goes on; at worst the next daemon reuses some seqs.
      if (!this.failing) process.emitWarning(`corral: writing ${this.path} failed: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
