// The tasks' signal bus: every signal gets a monotonic sequence number and is kept in a bounded
// ring; each watcher has a bounded queue, and a watcher too slow for it is told how many it missed.
import type { JsonValue } from "./types.js";

export interface TaskSignalRecord {
  seq: number;
  time: Date;
  task: string;
  name: string;
  payload: JsonValue;
}

export type SignalWatchItem = { signal: TaskSignalRecord } | { gap: { afterSeq: number; missed: number } };

export interface SignalWatchOptions {
  /** Held signals with seq > afterSeq are delivered first (0: everything held). */
  afterSeq?: number;
  /** Only signals published after the call. */
  liveOnly?: boolean;
  /** Task names (empty: all). Filtering by name, so a removed and re-created task stays watched. */
  tasks?: string[];
  /** Signal names (empty: all). */
  names?: string[];
  signal?: AbortSignal;
  /** Live signals queued for a slow watcher before the oldest are dropped (and reported). */
  maxQueue?: number;
}

export class SignalBus {
  private readonly ring: TaskSignalRecord[] = [];
  private start = 0;
  private nextSeq = 1;
  private readonly subscribers = new Set<(record: TaskSignalRecord) => void>();

  constructor(
    readonly capacity = 10_000,
    readonly defaultMaxQueue = 1_000,
  ) {}

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get firstHeldSeq(): number {
    return this.ring.length === 0 ? this.nextSeq : this.at(0).seq;
  }

  publish(task: string, name: string, payload: JsonValue = null): TaskSignalRecord {
    const record: TaskSignalRecord = { seq: this.nextSeq++, time: new Date(), task, name, payload };
    if (this.ring.length < this.capacity) this.ring.push(record);
    else {
      this.ring[this.start] = record;
      this.start = (this.start + 1) % this.capacity;
    }
    for (const subscriber of this.subscribers) subscriber(record);
    return record;
  }

  private at(i: number): TaskSignalRecord {
    return this.ring[(this.start + i) % this.ring.length];
  }

  /** Held signals after opts.afterSeq, then live ones, until opts.signal aborts. */
  async *watch(opts: SignalWatchOptions = {}): AsyncGenerator<SignalWatchItem> {
    const maxQueue = Math.max(1, opts.maxQueue ?? this.defaultMaxQueue);
    const tasks = opts.tasks && opts.tasks.length > 0 ? new Set(opts.tasks) : undefined;
    const names = opts.names && opts.names.length > 0 ? new Set(opts.names) : undefined;
    const wanted = (r: TaskSignalRecord) => (!tasks || tasks.has(r.task)) && (!names || names.has(r.name));
    let queue: TaskSignalRecord[] = [];
    let dropped = 0;
    let droppedAfter = 0;
    let wake: (() => void) | undefined;
    // Subscribed before the backlog is read, so nothing falls between the two.
    const subscriber = (record: TaskSignalRecord) => {
      if (!wanted(record)) return;
      if (queue.length >= maxQueue) {
        const lost = queue.shift()!;
        if (dropped === 0) droppedAfter = lost.seq - 1;
        dropped++;
      }
      queue.push(record);
      wake?.();
    };
    const onAbort = () => wake?.();
    opts.signal?.addEventListener("abort", onAbort);
    this.subscribers.add(subscriber);
    try {
      let lastSent = opts.liveOnly ? this.lastSeq : (opts.afterSeq ?? 0);
      if (!opts.liveOnly) {
        const afterSeq = opts.afterSeq ?? 0;
        const first = this.firstHeldSeq;
        if (afterSeq > 0 && afterSeq + 1 < first) yield { gap: { afterSeq, missed: first - afterSeq - 1 } };
        const backlog: TaskSignalRecord[] = [];
        for (let i = 0; i < this.ring.length; i++) {
          const record = this.at(i);
          if (record.seq > afterSeq) backlog.push(record);
        }
        for (const record of backlog) {
          if (opts.signal?.aborted) return;
          if (record.seq > lastSent && wanted(record)) yield { signal: record };
          lastSent = Math.max(lastSent, record.seq);
        }
      }
      while (!opts.signal?.aborted) {
        if (dropped > 0) {
          const gap = { afterSeq: droppedAfter, missed: dropped };
          dropped = 0;
          yield { gap };
        }
        if (queue.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        const batch = queue;
        queue = [];
        for (const record of batch) {
          if (record.seq <= lastSent) continue;
          lastSent = record.seq;
          yield { signal: record };
          if (opts.signal?.aborted) return;
        }
      }
    } finally {
      this.subscribers.delete(subscriber);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}
