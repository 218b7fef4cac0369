// The event journal: every change gets a monotonic sequence number and is kept in a bounded
// ring, so a reconnecting watcher resumes after its last seq (or is told what it lost).
import type { ProcessState } from "../process/types.js";

export type EventDetail =
  | { kind: "stateChanged"; from: ProcessState; to: ProcessState; reason: string }
  | { kind: "processStarted"; pid: number; pidStartTicks: number }
  // reason and stderrTail are absent in journal files written by older daemons.
  | { kind: "processExited"; pid: number; exitCode?: number; signal?: string; expected: boolean; uptimeMs: number; reason?: string; stderrTail?: readonly string[] }
  | { kind: "spawnFailed"; path: string; errno: string; message: string }
  | { kind: "server"; message: string }
  | { kind: "probeChanged"; probe: "readiness" | "liveness"; ok: boolean; message: string }
  | { kind: "configApplied"; added: string[]; changed: string[]; removed: string[]; unchanged: string[]; restarted: string[] }
  | { kind: "taskRestored"; task: string; type: string; started: boolean; message: string };

export interface JournalEvent {
  seq: number;
  time: Date;
  program: string;
  runId: number;
  detail: EventDetail;
}

/** What a watcher receives: an event, or a notice that events between two seqs are gone. */
export type WatchItem = { event: JournalEvent } | { gap: { afterSeq: number; firstAvailableSeq: number; missed: number } };

export interface WatchOptions {
  /** Deliver events with seq > afterSeq (0: everything still held). */
  afterSeq?: number;
  liveOnly?: boolean;
  programs?: string[];
  signal?: AbortSignal;
  /** Live events buffered for a slow watcher before older ones are dropped (and reported). */
  maxQueue?: number;
}

interface Subscriber {
  push(event: JournalEvent): void;
}

export class EventJournal {
  private readonly ring: JournalEvent[] = [];
  private start = 0; // index of the oldest event in ring (ring is used as a circular buffer)
  private nextSeq: number;
  private readonly subscribers = new Set<Subscriber>();
  /** Called with each event before any watcher sees it (persistence: see journal-file.ts). */
  private sink?: (event: JournalEvent) => void;

  constructor(
    readonly capacity = 10_000,
    firstSeq = 1,
  ) {
    this.nextSeq = firstSeq;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get firstAvailableSeq(): number {
    return this.ring.length === 0 ? this.nextSeq : this.at(0).seq;
  }

  get size(): number {
    return this.ring.length;
  }

  append(program: string, runId: number, detail: EventDetail): JournalEvent {
    const event: JournalEvent = { seq: this.nextSeq++, time: new Date(), program, runId, detail };
    if (this.ring.length < this.capacity) this.ring.push(event);
    else {
      this.ring[this.start] = event;
      this.start = (this.start + 1) % this.capacity;
    }
    this.sink?.(event);
    for (const subscriber of this.subscribers) subscriber.push(event);
    return event;
  }

  setSink(sink: ((event: JournalEvent) => void) | undefined): void {
    this.sink = sink;
  }

  /**
   * Puts back the events a previous daemon journaled (oldest first), so seqs continue after
   * them and watchers can resume across the restart. Only on an empty journal.
   */
  restore(events: JournalEvent[]): void {
    if (this.ring.length > 0 || events.length === 0) return;
    const kept = events.slice(-this.capacity);
    this.ring.push(...kept);
    this.start = 0;
    this.nextSeq = Math.max(this.nextSeq, kept[kept.length - 1].seq + 1);
  }

  /** The most recent events, oldest first (at most the capacity). */
  recent(): JournalEvent[] {
    return this.since(0);
  }

  /** Events with seq > afterSeq still held, oldest first. */
  since(afterSeq: number): JournalEvent[] {
    const out: JournalEvent[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const event = this.at(i);
      if (event.seq > afterSeq) out.push(event);
    }
    return out;
  }

  private at(i: number): JournalEvent {
    return this.ring[(this.start + i) % this.ring.length];
  }

  /**
   * Journaled events after opts.afterSeq, then live events, until opts.signal aborts.
   * The live subscription is taken before the backlog is read, so nothing falls between.
   */
  async *watch(opts: WatchOptions = {}): AsyncGenerator<WatchItem> {
    const maxQueue = opts.maxQueue ?? 10_000;
    const filter = opts.programs && opts.programs.length > 0 ? new Set(opts.programs) : undefined;
    const wanted = (event: JournalEvent) => !filter || filter.has(event.program);
    let queue: JournalEvent[] = [];
    let dropped = 0;
    let droppedAfter = 0;
    let wake: (() => void) | undefined;
    const subscriber: Subscriber = {
      push: (event) => {
        if (!wanted(event)) return;
        if (queue.length >= maxQueue) {
          const lost = queue.shift();
          if (lost && dropped === 0) droppedAfter = lost.seq - 1;
          dropped++;
        }
        queue.push(event);
        wake?.();
      },
    };
    const onAbort = () => wake?.();
    opts.signal?.addEventListener("abort", onAbort);
    this.subscribers.add(subscriber);
    try {
      let lastSent = opts.liveOnly ? this.lastSeq : (opts.afterSeq ?? 0);
      if (!opts.liveOnly) {
        const afterSeq = opts.afterSeq ?? 0;
        const first = this.firstAvailableSeq;
        if (afterSeq > 0 && afterSeq + 1 < first) {
          yield { gap: { afterSeq, firstAvailableSeq: first, missed: first - afterSeq - 1 } };
        }
        for (const event of this.since(afterSeq)) {
          if (opts.signal?.aborted) return;
          if (event.seq > lastSent && wanted(event)) yield { event };
          lastSent = Math.max(lastSent, event.seq);
        }
      }
      while (!opts.signal?.aborted) {
        if (dropped > 0) {
          const missed = dropped;
          const after = droppedAfter;
          dropped = 0;
          yield { gap: { afterSeq: after, firstAvailableSeq: queue[0]?.seq ?? this.nextSeq, missed } };
        }
        if (queue.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const batch = queue;
        queue = [];
        for (const event of batch) {
          if (event.seq <= lastSent) continue;
          lastSent = event.seq;
          yield { event };
          if (opts.signal?.aborted) return;
        }
      }
    } finally {
      this.subscribers.delete(subscriber);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}
