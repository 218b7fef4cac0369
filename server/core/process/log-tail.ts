// The last N lines of a stream: where they begin, found by reading backwards in blocks through
// the stream's own reader, so it works across backups like any read.

const TAIL_BLOCK = 64 * 1024;

/** The logical offset where the last `lines` lines of [first, end) begin. */
export async function tailOffsetOf(
  read: (offset: number, maxBytes: number) => Promise<{ data: Buffer }>,
  { first, end }: { first: number; end: number },
  lines: number,
): Promise<number> {
  if (lines <= 0) return end;
  let position = end;
  let newlines = 0;
  let skipTrailing = true;
  while (position > first) {
    const blockStart = Math.max(first, position - TAIL_BLOCK);
    const { data } = await read(blockStart, position - blockStart);
    for (let i = data.length - 1; i >= 0; i--) {
      if (data[i] === 10) {
        if (skipTrailing && blockStart + i === end - 1) continue; // the final newline ends the last line
        newlines++;
        if (newlines === lines) return blockStart + i + 1;
      }
      skipTrailing = false;
    }
    if (data.length === 0) break;
    position = blockStart;
  }
  return first;
}
