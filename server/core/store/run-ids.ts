// Run ids are never reused, even across daemon restarts: the high-water mark is kept on disk
// and reserved in blocks, so a spawn costs no write most of the time.
import { readFileSync, renameSync, writeFileSync } from "node:fs";

const BLOCK = 1000;

export class RunIdAllocator {
  private nextId: number;
  private reservedUpTo: number;

  constructor(private readonly path: string) {
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
      this.reservedUpTo = this.nextId + BLOCK - 1;
      // Atomic replace: a crash leaves the old or the new mark, never a torn file.
      writeFileSync(`${this.path}.tmp`, String(this.reservedUpTo));
      renameSync(`${this.path}.tmp`, this.path);
    }
    return this.nextId++;
  }
}
