// The one sequenced log behind the event journal and the task signal bus: every item gets the next
// sequence number and is held in a ring bounded by count and by approximate bytes. A watcher is a
// cursor into that ring, not a queue of its own, so a watcher that stops reading costs no memory:
// when it reads again and the ring has moved past its cursor, it is told what it missed (a gap).

/** Why a watcher did not get every seq: the three ways are reported in one shape. */
export type GapReason =
  /** The seqs asked for (after_seq) are older than the ring still holds (trimmed, or before a restart). */
  | "not-held"
  /** The watcher read more slowly than items arrived, and the ring dropped seqs it had not read yet. */
  | "fell-behind"
  /** after_seq is beyond the last seq this log has handed out: it is not from this log's history. */
  | "ahead";

/**
 * A notice in a watch: seqs after `afterSeq` up to `firstAvailableSeq - 1` will not be delivered.
 * `missed` counts those seqs (whatever the watcher's filter; for "ahead", 0: nothing is known
 * of them). After an "ahead" notice the watch delivers everything held, from firstAvailableSeq.
 */
export interface SequenceGap {
  reason: GapReason;
  afterSeq: number;
  firstAvailableSeq: number;
  missed: number;
}

export type LogWatchItem<T> = { item: T } | { gap: SequenceGap };

export interface LogWatchOptions<T> {
  /** Deliver held items with seq > afterSeq first (0: everything held). */
  afterSeq?: number;
  /** Only items appended after the call (afterSeq is ignored). */
  liveOnly?: boolean;
  /** Items not wanted are passed over (they still move the cursor). */
  wanted?: (item: T) => boolean;
  signal?: AbortSignal;
}

export interface SequencedLogLimits {
  /** Items held at most (the oldest go first). */
  maxItems: number;
  /** Approximate bytes held at most (the oldest go first; the newest item is always held). */
  maxBytes: number;
}

/** Default bounds of every sequenced log (README: "Events and signals"). */
export const DEFAULT_LOG_LIMITS: SequencedLogLimits = { maxItems: 10_000, maxBytes: 16 * 1024 * 1024 };

interface Held<T> {
  item: T;
  bytes: number;
}

export class SequencedLog<T extends { readonly seq: number }> {
  /** held[head..] are the items kept, oldest first, seqs strictly increasing; below head: released slots. */
  private held: (Held<T> | undefined)[] = [];
  private head = 0;
  private heldBytes = 0;
  private nextSeqValue: number;
  /** Watchers waiting for the next item; woken (and forgotten) by append. */
  private waiting = new Set<() => void>();
  /** Called with each item before any watcher can see it (persistence). */
  private sink?: (item: T) => void;
  /** Called with each item as it is appended, after the sink (listen). */
  private listeners = new Set<(item: T) => void>();
  readonly limits: SequencedLogLimits;

  constructor(
    limits: Partial<SequencedLogLimits> = {},
    /** Approximate bytes of an item, computed once when it is appended. */
    private readonly sizeOf: (item: T) => number = () => 0,
    firstSeq = 1,
  ) {
    this.limits = { ...DEFAULT_LOG_LIMITS, ...limits };
    if (!(this.limits.maxItems >= 1)) throw new RangeError(`maxItems must be at least 1, got ${this.limits.maxItems}`);
    this.nextSeqValue = firstSeq;
  }

  get lastSeq(): number {
    return this.nextSeqValue - 1;
  }

  /** The seq the next append gets. */
  get nextSeq(): number {
    return this.nextSeqValue;
  }

  get size(): number {
    return this.held.length - this.head;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** The oldest seq still held (the next seq when nothing is). */
  get firstAvailableSeq(): number {
    return this.size === 0 ? this.nextSeqValue : this.held[this.head]!.item.seq;
  }

  setSink(sink: ((item: T) => void) | undefined): void {
    this.sink = sink;
  }

  /**
   * listener is called with each item appended from now on, synchronously inside append (after
   * the sink), until the returned function is called. For consumers in the daemon's own process
   * (its log, metrics, heap release): no cursor, no promise per item, nothing held for them, and
   * nothing to fall behind. A listener must not throw (EventJournal.listen catches for it).
   */
  listen(listener: (item: T) => void): () => void {
    // A function of its own per subscription: the same listener twice is two subscriptions.
    const subscription = (item: T) => listener(item);
    this.listeners.add(subscription);
    return () => this.listeners.delete(subscription);
  }

  /** Appends the item made for the next seq; the sink sees it before any listener or watcher does. */
  append(make: (seq: number) => T): T {
    const item = make(this.nextSeqValue++);
    this.hold(item);
    this.sink?.(item);
    for (const listener of this.listeners) listener(item);
    const woken = this.waiting;
    this.waiting = new Set();
    for (const wake of woken) wake();
    return item;
  }

  /**
   * Puts back items a previous daemon logged (oldest first, seqs increasing), so seqs continue
   * after them and watchers resume across the restart. Only on an empty log.
   */
  restore(items: T[]): void {
    if (this.size > 0 || items.length === 0) return;
    for (const item of items) this.hold(item);
    this.nextSeqValue = Math.max(this.nextSeqValue, items[items.length - 1]!.seq + 1);
  }

  /** Seqs continue after `seq` (a high-water mark saved by a previous daemon). Only on an empty log. */
  continueAfter(seq: number): void {
    if (this.size === 0) this.nextSeqValue = Math.max(this.nextSeqValue, seq + 1);
  }

  /** Items with seq > afterSeq still held, oldest first. */
  since(afterSeq: number): T[] {
    const out: T[] = [];
    for (let i = this.indexAfter(afterSeq); i < this.held.length; i++) out.push(this.held[i]!.item);
    return out;
  }

  /**
   * Held items after opts.afterSeq, then live ones, until opts.signal aborts. Pull-based: nothing
   * is read for the watcher until it asks for the next item, so a stalled stream pauses here.
   */
  async *watch(opts: LogWatchOptions<T> = {}): AsyncGenerator<LogWatchItem<T>> {
    const wanted = opts.wanted ?? (() => true);
    const signal = opts.signal;
    // One abort listener for the whole watch, waking the wait in progress (one per wait cost an
    // add and a remove per item per watcher: 100 watchers, 200 listener changes per item).
    let wake: (() => void) | undefined;
    const onAbort = () => {
      if (wake) this.waiting.delete(wake);
      wake?.();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      let cursor: number; // the last seq delivered or passed over
      if (opts.liveOnly) cursor = this.lastSeq;
      else {
        const afterSeq = opts.afterSeq ?? 0;
        const first = this.firstAvailableSeq;
        cursor = Math.max(afterSeq, first - 1);
        if (afterSeq > this.lastSeq) {
          yield { gap: { reason: "ahead", afterSeq, firstAvailableSeq: first, missed: 0 } };
          cursor = first - 1;
        } else if (afterSeq > 0 && afterSeq + 1 < first) {
          yield { gap: { reason: "not-held", afterSeq, firstAvailableSeq: first, missed: first - afterSeq - 1 } };
        }
      }
      while (!signal?.aborted) {
        const first = this.firstAvailableSeq;
        if (cursor + 1 < first) {
          yield { gap: { reason: "fell-behind", afterSeq: cursor, firstAvailableSeq: first, missed: first - cursor - 1 } };
          cursor = first - 1;
          continue;
        }
        const index = this.indexAfter(cursor);
        if (index >= this.held.length) {
          // Woken (and forgotten) by the next append, or by the abort.
          await new Promise<void>((resolve) => {
            wake = resolve;
            this.waiting.add(resolve);
          });
          wake = undefined;
          continue;
        }
        const { item } = this.held[index]!;
        cursor = item.seq;
        if (wanted(item)) yield { item };
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (wake) this.waiting.delete(wake);
    }
  }

  private hold(item: T): void {
    const bytes = this.sizeOf(item);
    this.held.push({ item, bytes });
    this.heldBytes += bytes;
    while (this.size > this.limits.maxItems || (this.heldBytes > this.limits.maxBytes && this.size > 1)) {
      this.heldBytes -= this.held[this.head]!.bytes;
      this.held[this.head++] = undefined;
    }
    // Released slots are reclaimed in one copy once they are the larger half.
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
  }

  /** Index in held of the first item with seq > seq (held.length when none). */
  private indexAfter(seq: number): number {
    if (this.size === 0) return this.held.length;
    // Seqs are contiguous unless a restored file had damaged lines: try the direct slot first.
    const guess = this.head + (seq + 1 - this.held[this.head]!.item.seq);
    if (guess >= this.head && guess < this.held.length && this.held[guess]!.item.seq === seq + 1) return guess;
    let low = this.head;
    let high = this.held.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.held[mid]!.item.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
