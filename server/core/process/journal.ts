// The event journal: every change of a program (and of the daemon) is an event in the one
// sequenced log (events/sequenced-log.ts), so a reconnecting watcher resumes after its last seq
// or is told what it lost; events.jsonl keeps it across restarts (events/log-file.ts).
import { DEFAULT_LOG_LIMITS, SequencedLog, type SequenceGap, type SequencedLogLimits } from "../events/sequenced-log.js";
import type { LogCodec } from "../events/log-file.js";
import type { ProcessState } from "./types.js";

export type EventDetail =
  | { kind: "stateChanged"; from: ProcessState; to: ProcessState; reason: string }
  // restart: an automatic restart by the restart policy (absent in journal files of older daemons).
  | { kind: "processStarted"; pid: number; pidStartTicks: number; restart?: boolean }
  // reason and stderrTail are absent in journal files written by older daemons.
  | {
      kind: "processExited";
      pid: number;
      exitCode?: number;
      signal?: string;
      expected: boolean;
      uptimeMs: number;
      reason?: string;
      stderrTail?: readonly string[];
      /** The limit that ended the run: "limits.memory" (OOM-killed in its cgroup) or "max_memory" (restarted by corral). */
      limit?: LimitName;
    }
  | {
      kind: "limitExceeded";
      limit: LimitName;
      limitBytes: number;
      /** max_memory: the tree's RSS; limits.memory: the cgroup's memory.peak (0 where the kernel has none). */
      observedBytes: number;
      oomKills: number;
      message: string;
    }
  | { kind: "spawnFailed"; path: string; errno: string; message: string; restart?: boolean }
  | { kind: "server"; message: string }
  | { kind: "probeChanged"; probe: "readiness" | "liveness"; ok: boolean; message: string }
  | { kind: "configApplied"; added: string[]; changed: string[]; removed: string[]; unchanged: string[]; restarted: string[] }
  | { kind: "taskRestored"; task: string; type: string; started: boolean; message: string };

/** The limits whose crossing is an event of its own. */
export type LimitName = "limits.memory" | "max_memory";

export interface JournalEvent {
  seq: number;
  time: Date;
  program: string;
  runId: number;
  detail: EventDetail;
}

/** What a watcher receives: an event, or a notice that events were not delivered (and why). */
export type WatchItem = { event: JournalEvent } | { gap: SequenceGap };

export interface WatchOptions {
  /** Deliver events with seq > afterSeq (0: everything still held). */
  afterSeq?: number;
  liveOnly?: boolean;
  programs?: string[];
  signal?: AbortSignal;
}

/** Fixed cost counted per event besides its detail (record, time, program name). */
const EVENT_OVERHEAD_BYTES = 128;

function approximateBytes(event: JournalEvent): number {
  return EVENT_OVERHEAD_BYTES + event.program.length + JSON.stringify(event.detail).length;
}

export class EventJournal {
  readonly log: SequencedLog<JournalEvent>;

  constructor(capacity = DEFAULT_LOG_LIMITS.maxItems, maxBytes = DEFAULT_LOG_LIMITS.maxBytes) {
    this.log = new SequencedLog<JournalEvent>({ maxItems: capacity, maxBytes }, approximateBytes);
  }

  get limits(): SequencedLogLimits {
    return this.log.limits;
  }

  get lastSeq(): number {
    return this.log.lastSeq;
  }

  get firstAvailableSeq(): number {
    return this.log.firstAvailableSeq;
  }

  get size(): number {
    return this.log.size;
  }

  append(program: string, runId: number, detail: EventDetail): JournalEvent {
    return this.log.append((seq) => ({ seq, time: new Date(), program, runId, detail }));
  }

  /** Called with each event before any watcher sees it (persistence). */
  setSink(sink: ((event: JournalEvent) => void) | undefined): void {
    this.log.setSink(sink);
  }

  /**
   * Calls listener with each event journaled from now on, synchronously as it is appended
   * (events/sequenced-log.ts listen), until the returned function is called; a watch without
   * the async iteration (a stop-all of 500 made 1500 events, and each internal watcher's
   * promises and results per event were a third of what the daemon allocated). A listener that
   * throws is unsubscribed and said on stderr as "corral: WHO stopped: why": the append, and the
   * state change behind it, go on.
   */
  listen(who: string, listener: (event: JournalEvent) => void): () => void {
    const unsubscribe = this.log.listen((event) => {
      try {
        listener(event);
      } catch (error) {
        unsubscribe();
        process.stderr.write(`corral: ${who} stopped: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    });
    return unsubscribe;
  }

  /** Puts back the events a previous daemon journaled (oldest first); only on an empty journal. */
  restore(events: JournalEvent[]): void {
    this.log.restore(events);
  }

  /** The events held, oldest first. */
  recent(): JournalEvent[] {
    return this.log.since(0);
  }

  /** Events with seq > afterSeq still held, oldest first. */
  since(afterSeq: number): JournalEvent[] {
    return this.log.since(afterSeq);
  }

  /** Journaled events after opts.afterSeq, then live events, until opts.signal aborts. */
  async *watch(opts: WatchOptions = {}): AsyncGenerator<WatchItem> {
    const programs = opts.programs && opts.programs.length > 0 ? new Set(opts.programs) : undefined;
    const items = this.log.watch({
      afterSeq: opts.afterSeq,
      liveOnly: opts.liveOnly,
      signal: opts.signal,
      wanted: programs ? (event) => programs.has(event.program) : undefined,
    });
    for await (const item of items) yield "gap" in item ? item : { event: item.item };
  }
}

interface StoredEvent {
  seq: number;
  time: string;
  program: string;
  runId: number;
  detail: EventDetail;
}

/** events.jsonl's lines. */
export const journalCodec: LogCodec<JournalEvent> = {
  encode: (event): StoredEvent => ({ seq: event.seq, time: event.time.toISOString(), program: event.program, runId: event.runId, detail: event.detail }),
  decode(line) {
    if (typeof line !== "object" || line === null) return undefined;
    const value = line as Partial<StoredEvent>;
    if (!Number.isSafeInteger(value.seq) || typeof value.time !== "string" || typeof value.program !== "string") return undefined;
    if (!Number.isSafeInteger(value.runId) || typeof value.detail !== "object" || value.detail === null || typeof value.detail.kind !== "string")
      return undefined;
    const time = new Date(value.time);
    if (Number.isNaN(time.getTime())) return undefined;
    return { seq: value.seq as number, time, program: value.program, runId: value.runId as number, detail: value.detail };
  },
};
