// The event journal on disk, so sequence numbers continue across daemon restarts and WatchEvents
// resumes after one: an append-only JSON-lines file (one event per line), compacted to the last
// `keep` events once it holds twice that many.
//
// Why this format: appending a line is one write(2), so the cost per event is tiny and the order
// is the journal's order. Each event is written synchronously when it is appended, before any
// watcher can have received it, so a seq a client has seen is never handed out again by the next
// daemon. A crash can at worst leave a torn last line, which load() skips and reports.
// Compaction rewrites the file atomically (temp + fsync + rename). No fsync per event: a killed
// daemon loses nothing (the bytes are in the page cache); only a power loss could, and then no
// run survives either.
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import type { EventDetail, JournalEvent } from "../process/journal.js";
import { writeFileAtomic } from "../store/state-store.js";

interface StoredEvent {
  seq: number;
  time: string;
  program: string;
  runId: number;
  detail: EventDetail;
}

export interface JournalLoad {
  events: JournalEvent[];
  /** Lines that could not be used (a torn last line after a crash, or corruption). */
  skipped: number;
}

function toLine(event: JournalEvent): string {
  const stored: StoredEvent = { seq: event.seq, time: event.time.toISOString(), program: event.program, runId: event.runId, detail: event.detail };
  return `${JSON.stringify(stored)}\n`;
}

function fromLine(line: string): JournalEvent | undefined {
  try {
    const value = JSON.parse(line) as Partial<StoredEvent>;
    if (!Number.isSafeInteger(value.seq) || typeof value.time !== "string" || typeof value.program !== "string") return undefined;
    if (!Number.isSafeInteger(value.runId) || typeof value.detail !== "object" || value.detail === null || typeof value.detail.kind !== "string") return undefined;
    const time = new Date(value.time);
    if (Number.isNaN(time.getTime())) return undefined;
    return { seq: value.seq as number, time, program: value.program, runId: value.runId as number, detail: value.detail };
  } catch {
    return undefined;
  }
}

export class JournalFile {
  private fd?: number;
  private lines = 0;

  constructor(
    readonly path: string,
    /** Events kept by compaction (the in-memory ring's capacity is a good value). */
    private readonly keep: number,
  ) {}

  /** Reads the events in order of seq (the last `keep`); lines that do not parse are skipped. */
  load(): JournalLoad {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return { events: [], skipped: 0 };
    }
    const events: JournalEvent[] = [];
    let skipped = 0;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const event = fromLine(line);
      // Seqs only grow; anything else is damage.
      if (!event || (events.length > 0 && event.seq <= events[events.length - 1].seq)) {
        skipped++;
        continue;
      }
      events.push(event);
    }
    this.lines = events.length;
    return { events: events.slice(-this.keep), skipped };
  }

  append(event: JournalEvent, recent: () => JournalEvent[]): void {
    try {
      this.fd ??= openSync(this.path, "a", 0o600);
      // After a failed write the file may end in part of a line: end it, or the next event
      // would be glued to it and lost with it when the file is loaded.
      writeFileSync(this.fd, this.failing ? `\n${toLine(event)}` : toLine(event));
      if (this.failing) process.emitWarning(`corral: writing the event journal ${this.path} works again`);
      this.failing = false;
      if (++this.lines >= 2 * this.keep) this.compact(recent());
    } catch (error) {
      // Disk full or similar: the daemon goes on; the in-memory journal still has the event.
      // Said once per run of failures, not once per event.
      if (!this.failing) process.emitWarning(`corral: writing the event journal ${this.path} failed: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  /** The last append failed (the file may end in a torn line). */
  private failing = false;

  /** Replaces the file with the most recent events (atomically) and appends to the new file. */
  compact(events: JournalEvent[]): void {
    const kept = events.slice(-this.keep);
    writeFileAtomic(this.path, kept.map(toLine).join(""));
    this.close();
    this.lines = kept.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
