// Reading a program's logs as clients ask for them: a range or the last N lines of one stream,
// or following one stream or both merged in arrival order, of one program or of all of them.
// The files themselves are log-file.ts.
import { InvalidArgumentError } from "../errors.js";
import { merge } from "./merge.js";
import type { Program } from "./program.js";
import type { LogChunk, LogStreamName } from "./types.js";

export interface ReadLogsOptions {
  stream: LogStreamName;
  offset?: number;
  maxBytes?: number; // default and cap 1 MiB
  tailLines?: number;
  /** Read from the first byte written at or after this time (overrides offset and tailLines; log-file.ts offsetSince). */
  sinceMs?: number;
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
  /** Start at the first byte written at or after this time (overrides tailLines and offset). */
  sinceMs?: number;
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
  let offset: number;
  /** With tailLines: where the counted lines end (a line written meanwhile is not one of them: it would make N+1). */
  let tailEnd: number | undefined;
  if (options.sinceMs !== undefined) offset = await file.offsetSince(options.sinceMs);
  else if (options.tailLines && options.tailLines > 0) ({ offset, end: tailEnd } = await file.tailRange(options.tailLines));
  else offset = options.offset ?? 0;
  const { first, end, ...chunk } = await file.read(offset, maxBytes);
  if (tailEnd !== undefined && chunk.offset + chunk.data.length > tailEnd) chunk.data = chunk.data.subarray(0, Math.max(0, tailEnd - chunk.offset));
  return { chunk, firstOffset: first, endOffset: end };
}

/** Follows one stream, or both merged in arrival order. */
export async function* followLogs(program: Program, options: FollowLogsOptions = {}): AsyncGenerator<LogChunk> {
  const files = options.stream ? [options.stream === "stderr" ? program.stderr : program.stdout] : [program.stdout, program.stderr];
  if (options.offset !== undefined && options.sinceMs === undefined && files.length > 1) {
    throw new InvalidArgumentError("offset", options.offset, "an offset needs a single stream (stdout or stderr)");
  }
  const starts = await Promise.all(
    files.map(async (file) =>
      options.sinceMs !== undefined
        ? file.offsetSince(options.sinceMs)
        : options.offset !== undefined
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

/** A chunk of some program's output, when several programs are followed at once. */
export interface ProgramLogChunk {
  program: string;
  chunk: LogChunk;
}

async function* tagged(program: Program, options: FollowLogsOptions): AsyncGenerator<ProgramLogChunk> {
  for await (const chunk of followLogs(program, options)) yield { program: program.name, chunk };
}

/**
 * Follows these programs' streams merged in arrival order (like `pm2 logs`). The memory held
 * while the client does not read is one chunk read ahead per followed stream (merge.ts), so
 * FOLLOW_CHUNK x 2 x programs, plus the gRPC stream's buffer.
 */
export function followAllLogs(programs: Program[], options: Omit<FollowLogsOptions, "offset">): AsyncGenerator<ProgramLogChunk> {
  return merge(programs.map((program) => tagged(program, options)));
}
