// Reading a program's logs as clients ask for them: a range or the last N lines of one stream,
// or following one stream or both merged in arrival order. The files themselves are logs.ts.
import { InvalidArgumentError } from "../errors.js";
import { merge } from "./merge.js";
import type { Program } from "./program.js";
import type { LogChunk, LogStreamName } from "./types.js";

export interface ReadLogsOptions {
  stream: LogStreamName;
  offset?: number;
  maxBytes?: number; // default and cap 1 MiB
  tailLines?: number;
}

export interface ReadLogsResult {
  chunk: LogChunk;
  firstOffset: number;
  endOffset: number;
}

export interface FollowLogsOptions {
  /** Both streams when omitted. */
  stream?: LogStreamName;
  tailLines?: number;
  offset?: number;
  signal?: AbortSignal;
}

/** One read returns at most this much (also when asked for more). */
const MAX_READ_BYTES = 1 << 20;

export async function readLogs(program: Program, options: ReadLogsOptions): Promise<ReadLogsResult> {
  const file = options.stream === "stderr" ? program.stderr : program.stdout;
  if (options.maxBytes !== undefined && (!Number.isInteger(options.maxBytes) || options.maxBytes < 0)) {
    throw new InvalidArgumentError("max_bytes", options.maxBytes, "must be a non-negative integer");
  }
  const maxBytes = Math.min(options.maxBytes || MAX_READ_BYTES, MAX_READ_BYTES);
  const offset = options.tailLines && options.tailLines > 0 ? await file.tailOffset(options.tailLines) : (options.offset ?? 0);
  const { first, end, ...chunk } = await file.read(offset, maxBytes);
  return { chunk, firstOffset: first, endOffset: end };
}

/** Follows one stream, or both merged in arrival order. */
export async function* followLogs(program: Program, options: FollowLogsOptions = {}): AsyncGenerator<LogChunk> {
  const files = options.stream ? [options.stream === "stderr" ? program.stderr : program.stdout] : [program.stdout, program.stderr];
  if (options.offset !== undefined && files.length > 1) {
    throw new InvalidArgumentError("offset", options.offset, "an offset needs a single stream (stdout or stderr)");
  }
  const starts = await Promise.all(
    files.map(async (file) =>
      options.offset !== undefined
        ? options.offset
        : options.tailLines && options.tailLines > 0
          ? file.tailOffset(options.tailLines)
          : (await file.bounds()).end,
    ),
  );
  if (files.length === 1) {
    yield* files[0].follow(starts[0], options.signal);
    return;
  }
  yield* merge(files.map((file, i) => file.follow(starts[i], options.signal)));
}
