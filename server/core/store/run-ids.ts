// Run ids are never reused, even across daemon restarts: the high-water mark is kept on disk
// and reserved in blocks, so a spawn costs no write most of the time.
import { readFileSync, renameSync, writeFileSync } from "node:fs";

const BLOCK = 1000;

export class RunIdAllocator {
  private nextId: number;
  private reservedUpTo: number;

  constructor(readonly path: string) {
    let stored = 0;
    try {
      stored = Number(readFileSync(path, "utf8").trim()) || 0;
    } catch {
      // first start
    }
    this.nextId = stored + 1;
    this.reservedUpTo = stored;
  }

  next(): number {
    if (this.nextId > this.reservedUpTo) {
      const reserve = this.nextId + BLOCK - 1;
      // Atomic replace: a crash leaves the old or the new mark, never a torn file. Taken as
      // reserved only once written: after a failed write (disk full) ids must not be handed out.
      writeFileSync(`${this.path}.tmp`, String(reserve));
      renameSync(`${this.path}.tmp`, this.path);
      this.reservedUpTo = reserve;
    }
    return this.nextId++;
  }
}
