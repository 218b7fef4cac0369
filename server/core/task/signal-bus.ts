// The tasks' signal bus: every signal gets a monotonic sequence number and is kept in a ring
// bounded by count and by bytes; each watcher has a queue bounded the same way, and a watcher too
// slow for it is told how many it missed. So neither big payloads nor slow watchers grow memory.
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
  /** The same bound in (approximate) bytes of payload. */
  maxQueueBytes?: number;
}

export interface SignalBusLimits {
  /** Approximate bytes of signals held for replay (the oldest go first); default 16 MiB. */
  maxHeldBytes?: number;
  /** Default per-watcher queue bound in approximate bytes; default 4 MiB. */
  maxQueueBytes?: number;
}

/** A signal with its approximate size, computed once when published. */
interface Held {
  record: TaskSignalRecord;
  bytes: number;
}

/** Fixed cost counted per signal besides its payload (record, names, time). */
const RECORD_OVERHEAD_BYTES = 128;

function approximateBytes(task: string, name: string, payload: JsonValue): number {
  return RECORD_OVERHEAD_BYTES + task.length + name.length + (payload === null ? 0 : (JSON.stringify(payload)?.length ?? 0));
}

export class SignalBus {
  /** held[head..] are the signals kept for replay, oldest first; below head: released slots. */
  private held: (Held | undefined)[] = [];
  private head = 0;
  private heldBytes = 0;
  private nextSeq = 1;
  private readonly subscribers = new Set<(held: Held) => void>();
  readonly maxHeldBytes: number;
  readonly defaultMaxQueueBytes: number;

  constructor(
    readonly capacity = 10_000,
    readonly defaultMaxQueue = 1_000,
    limits: SignalBusLimits = {},
  ) {
    this.maxHeldBytes = limits.maxHeldBytes ?? 16 * 1024 * 1024;
    this.defaultMaxQueueBytes = limits.maxQueueBytes ?? 4 * 1024 * 1024;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  private get heldCount(): number {
    return this.held.length - this.head;
  }

  get firstHeldSeq(): number {
    return this.heldCount === 0 ? this.nextSeq : this.at(0).seq;
  }

  publish(task: string, name: string, payload: JsonValue = null): TaskSignalRecord {
    const record: TaskSignalRecord = { seq: this.nextSeq++, time: new Date(), task, name, payload };
    const held: Held = { record, bytes: approximateBytes(task, name, payload) };
    this.held.push(held);
    this.heldBytes += held.bytes;
    // The newest signal is always held, even alone over the byte budget.
    while (this.heldCount > this.capacity || (this.heldBytes > this.maxHeldBytes && this.heldCount > 1)) {
      this.heldBytes -= this.held[this.head]!.bytes;
      this.held[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
    for (const subscriber of this.subscribers) subscriber(held);
    return record;
  }

  private at(i: number): TaskSignalRecord {
    return this.held[this.head + i]!.record;
  }

  /** Held signals after opts.afterSeq, then live ones, until opts.signal aborts. */
  async *watch(opts: SignalWatchOptions = {}): AsyncGenerator<SignalWatchItem> {
    const maxQueue = Math.max(1, opts.maxQueue ?? this.defaultMaxQueue);
    const maxQueueBytes = opts.maxQueueBytes ?? this.defaultMaxQueueBytes;
    const tasks = opts.tasks && opts.tasks.length > 0 ? new Set(opts.tasks) : undefined;
    const names = opts.names && opts.names.length > 0 ? new Set(opts.names) : undefined;
    const wanted = (r: TaskSignalRecord) => (!tasks || tasks.has(r.task)) && (!names || names.has(r.name));
    const queue: Held[] = [];
    let queueBytes = 0;
    let dropped = 0;
    let droppedAfter = 0;
    let wake: (() => void) | undefined;
    // Subscribed before the backlog is read, so nothing falls between the two.
    const subscriber = (held: Held) => {
      if (!wanted(held.record)) return;
      while (queue.length > 0 && (queue.length >= maxQueue || queueBytes + held.bytes > maxQueueBytes)) {
        const lost = queue.shift()!;
        queueBytes -= lost.bytes;
        if (dropped === 0) droppedAfter = lost.record.seq - 1;
        dropped++;
      }
      queue.push(held);
      queueBytes += held.bytes;
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
        for (let i = 0; i < this.heldCount; i++) {
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
        // One at a time, so the queue alone bounds what is kept, and a gap that opens while a
        // signal is being yielded is reported before the newer signals behind it.
        const next = queue.shift()!;
        queueBytes -= next.bytes;
        if (next.record.seq <= lastSent) continue;
        lastSent = next.record.seq;
        yield { signal: next.record };
      }
    } finally {
      this.subscribers.delete(subscriber);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}
