// When a stream's bytes were written, to the second: the marks `corral logs --since` (ReadLogs
// since) turns into an offset. The child writes its own file, so the daemon only sees growth (the
// file's watcher) and dates the end offset it finds then.

/** At most one time mark per this interval of writing. */
const TIME_MARK_MS = 1000;
/** Time marks kept per stream (16 bytes each). */
const MAX_TIME_MARKS = 4096;

export interface TimeMark {
  timeMs: number;
  offset: number;
}

/**
 * Time marks, oldest first: every byte before `offset` was written at or before `timeMs`. One is
 * taken at most every TIME_MARK_MS while the file grows (the watcher sees every write), so a
 * "since" is found to about a second. At most MAX_TIME_MARKS (16 bytes each): when full, every
 * other mark goes, so older times keep a coarser resolution rather than vanish.
 */
export class TimeMarks {
  private readonly marks: TimeMark[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly endOffset: () => number) {}

  /** The file grew (or `always`: mark now whatever the interval). */
  note(always = false): void {
    const now = Date.now();
    const last = this.marks.at(-1);
    if (!always && last !== undefined && now - last.timeMs < TIME_MARK_MS) {
      // Growth inside the interval is marked when it ends (a trailing mark), so the last burst
      // before a quiet spell is dated to within TIME_MARK_MS, not to the next write hours later.
      this.timer ??= setTimeout(
        () => {
          this.timer = undefined;
          this.note(true);
        },
        last.timeMs + TIME_MARK_MS - now,
      );
      this.timer.unref();
      return;
    }
    this.marks.push({ timeMs: now, offset: this.endOffset() });
    if (this.marks.length > MAX_TIME_MARKS) {
      const kept = this.marks.filter((_, i) => i % 2 === 1);
      this.marks.splice(0, this.marks.length, ...kept);
    }
  }

  all(): readonly TimeMark[] {
    return this.marks;
  }
}

/**
 * The logical offset of the first byte written at or after sinceMs, or an earlier one, never a
 * later one: the largest offset known to have everything before it written before sinceMs.
 * What is known (`dated`): the time marks (while this daemon watched), each backup's modification
 * time (its bytes were all written by then) and the current file's.
 */
export function offsetBefore(sinceMs: number, segments: readonly { start: number; size: number }[], dated: readonly TimeMark[]): number {
  const first = segments[0].start;
  const last = segments[segments.length - 1];
  let offset = first;
  for (const { timeMs, offset: upTo } of dated) if (timeMs < sinceMs && upTo > offset) offset = upTo;
  return Math.min(offset, last.start + last.size);
}
