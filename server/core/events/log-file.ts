// A sequenced log on disk, so sequence numbers continue across daemon restarts and a watch
// resumes after one (the event journal's events.jsonl): an append-only JSON-lines file (one item
// per line), compacted to the items the ring still holds once it has twice the ring's bound.
//
// Why this format: appending a line is one write(2), so the cost per item is tiny and the order
// is the log's order. Each item is written synchronously when it is appended, before any
// watcher can have received it, so a seq a client has seen is never handed out again by the next
// daemon. A crash can at worst leave a torn last line, which load() skips and reports.
// Compaction rewrites the file atomically (temp + fsync + rename). No fsync per item: a killed
// daemon loses nothing (the bytes are in the page cache); only a power loss could, and then no
// run survives either.
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { writeFileAtomic } from "../store/state-store.js";
import type { SequencedLogLimits } from "./sequenced-log.js";

/** How items become JSON lines and back; decode returns undefined for a line it cannot use. */
export interface LogCodec<T> {
  encode(item: T): unknown;
  decode(value: unknown): T | undefined;
}

export interface LogLoad<T> {
  items: T[];
  /** Lines that could not be used (a torn last line after a crash, or corruption). */
  skipped: number;
}

export class LogFile<T extends { readonly seq: number }> {
  private fd?: number;
  private lines = 0;
  private bytes = 0;
  /** The last append failed (the file may end in a torn line). */
  private failing = false;

  constructor(
    readonly path: string,
    private readonly codec: LogCodec<T>,
    /** Compaction runs at twice these bounds (the in-memory ring's). */
    private readonly limits: SequencedLogLimits,
  ) {}

  /** Reads the items in order of seq (the last maxItems); lines that do not parse are skipped. */
  load(): LogLoad<T> {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return { items: [], skipped: 0 };
    }
    const items: T[] = [];
    let skipped = 0;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const item = this.fromLine(line);
      // Seqs only grow; anything else is damage.
      if (!item || (items.length > 0 && item.seq <= items[items.length - 1]!.seq)) {
        skipped++;
        continue;
      }
      items.push(item);
    }
    this.lines = items.length;
    this.bytes = Buffer.byteLength(text);
    return { items: items.slice(-this.limits.maxItems), skipped };
  }

  append(item: T, held: () => T[]): void {
    try {
      this.fd ??= openSync(this.path, "a", 0o600);
      // After a failed write the file may end in part of a line: end it, or the next item
      // would be glued to it and lost with it when the file is loaded.
      const line = this.failing ? `\n${this.toLine(item)}` : this.toLine(item);
      writeFileSync(this.fd, line);
      if (this.failing) process.emitWarning(`corral: writing ${this.path} works again`);
      this.failing = false;
      this.bytes += line.length;
      if (++this.lines >= 2 * this.limits.maxItems || this.bytes >= 2 * this.limits.maxBytes) this.compact(held());
    } catch (error) {
      // Disk full or similar: the daemon goes on; the in-memory log still has the item.
      // Said once per run of failures, not once per item.
      if (!this.failing) process.emitWarning(`corral: writing ${this.path} failed: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  /** Replaces the file with the items held (atomically) and appends to the new file. */
  compact(items: T[]): void {
    const kept = items.slice(-this.limits.maxItems);
    const text = kept.map((item) => this.toLine(item)).join("");
    writeFileAtomic(this.path, text);
    this.close();
    this.lines = kept.length;
    this.bytes = text.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private toLine(item: T): string {
    return `${JSON.stringify(this.codec.encode(item))}\n`;
  }

  private fromLine(line: string): T | undefined {
    try {
      return this.codec.decode(JSON.parse(line));
    } catch {
      return undefined;
    }
  }
}
