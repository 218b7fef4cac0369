// The tasks' signal bus: every signal is an item of the one sequenced log (events/sequenced-log.ts),
// held in a ring bounded by count and by bytes; a watcher is a cursor into it, so neither big
// payloads nor slow watchers grow memory, and a watcher too slow for the ring is told what it missed.
// Signals are not kept across a daemon restart, but their seqs continue (events/seq-file.ts).
import { DEFAULT_LOG_LIMITS, SequencedLog, type SequenceGap, type SequencedLogLimits } from "../events/sequenced-log.js";
import type { SeqFile } from "../events/seq-file.js";
import type { JsonValue } from "./types.js";

export interface TaskSignalRecord {
  seq: number;
  time: Date;
  task: string;
  name: string;
  payload: JsonValue;
}

export type SignalWatchItem = { signal: TaskSignalRecord } | { gap: SequenceGap };

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
}

/** Fixed cost counted per signal besides its payload (record, names, time). */
const RECORD_OVERHEAD_BYTES = 128;

function approximateBytes(record: TaskSignalRecord): number {
  const payload = record.payload === null ? 0 : (JSON.stringify(record.payload)?.length ?? 0);
  return RECORD_OVERHEAD_BYTES + record.task.length + record.name.length + payload;
}

export class SignalBus {
  private readonly log: SequencedLog<TaskSignalRecord>;

  constructor(limits: Partial<SequencedLogLimits> = {}) {
    this.log = new SequencedLog<TaskSignalRecord>({ ...DEFAULT_LOG_LIMITS, ...limits }, approximateBytes);
  }

  get limits(): SequencedLogLimits {
    return this.log.limits;
  }

  get lastSeq(): number {
    return this.log.lastSeq;
  }

  get firstHeldSeq(): number {
    return this.log.firstAvailableSeq;
  }

  /**
   * Seqs continue after the one a previous daemon recorded in `file`, and every seq handed out
   * from now on is recorded there before any watcher sees it. Call before the first publish.
   */
  persistSeqs(file: SeqFile): void {
    this.log.continueAfter(file.load());
    this.log.setSink((record) => file.record(record.seq));
  }

  publish(task: string, name: string, payload: JsonValue = null): TaskSignalRecord {
    return this.log.append((seq) => ({ seq, time: new Date(), task, name, payload }));
  }

  /** Held signals after opts.afterSeq, then live ones, until opts.signal aborts. */
  async *watch(opts: SignalWatchOptions = {}): AsyncGenerator<SignalWatchItem> {
    const tasks = opts.tasks && opts.tasks.length > 0 ? new Set(opts.tasks) : undefined;
    const names = opts.names && opts.names.length > 0 ? new Set(opts.names) : undefined;
    const items = this.log.watch({
      afterSeq: opts.afterSeq,
      liveOnly: opts.liveOnly,
      signal: opts.signal,
      wanted: tasks || names ? (r) => (!tasks || tasks.has(r.task)) && (!names || names.has(r.name)) : undefined,
    });
    for await (const item of items) yield "gap" in item ? item : { signal: item.item };
  }
}
