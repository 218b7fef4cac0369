// The last lines a run wrote to stderr, for its exit reason and event (as exec tasks report
// theirs). Read synchronously from the end of the log file when the run ends: one bounded read.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** At most this many lines, each cut to MAX_LINE_CHARS, from at most TAIL_BYTES of the file. */
export const STDERR_TAIL_LINES = 5;
const MAX_LINE_CHARS = 200;
const TAIL_BYTES = 4096;

/**
 * The last lines of the file written since logical offset fromOffset (the run's start), given
 * the logical offset of the file's first byte (fileStartOffset); a rotation since then only
 * shortens what is found. One open, fstat and close when the run wrote nothing to stderr.
 */
export function stderrTail(path: string, fromOffset: number, fileStartOffset: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const runStartInFile = Math.max(0, fromOffset - fileStartOffset);
    const start = Math.max(runStartInFile, size - TAIL_BYTES);
    if (start >= size) return [];
    const buffer = Buffer.alloc(size - start);
    const got = readSync(fd, buffer, 0, buffer.length, start);
    let text = buffer.subarray(0, got).toString("utf8");
    // A cut at the start of the window leaves a partial first line: drop it unless it is the run's first.
    if (start > runStartInFile) text = text.slice(text.indexOf("\n") + 1);
    const lines = text
      .split("\n")
      .map((line) => line.replace(/\r$/, ""))
      .filter((line) => line.trim() !== "");
    return lines.slice(-STDERR_TAIL_LINES).map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line));
  } catch {
    return []; // no log file (or unreadable): no tail, the exit is reported all the same
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
