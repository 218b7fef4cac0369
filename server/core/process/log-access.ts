// Reading a program's logs as clients ask for them: a range or the last N lines of one stream,
// or following one stream or several merged in arrival order, of one program or of all of
// them. Streams are picked by kind
// (stdout, stderr) or by name (stream-names.ts: labels and custom streams). The files
// themselves are log-file.ts.
import { InvalidArgumentError } from "../errors.js";
import type { LogFile } from "./log-file.js";
import { merge } from "./merge.js";
import { resolveStreamName } from "./stream-names.js";
import type { LogChunk, LogStreamName, ProgramConfig, StdStreamName } from "./types.js";

/** What reading needs of a program: its config (the stream names) and its files. */
export interface LogSource {
  readonly config: ProgramConfig;
  logFile(stream: LogStreamName): LogFile;
}

export interface ReadLogsOptions {
  /** A standard stream by kind (ReadLogsRequest.stream); default stdout. */
  stream?: StdStreamName;
  /** A stream by name (stream_name): "stdout", "stderr", a redirect_output label or a custom stream. */
  streamName?: string;
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
  /** One standard stream by kind; with neither this nor streamNames: stdout and stderr. */
  stream?: StdStreamName;
  /** Streams by name (stream_names), merged in arrival order. */
  streamNames?: string[];
  tailLines?: number;
  offset?: number;
  /** Start at the first byte written at or after this time (overrides tailLines and offset). */
  sinceMs?: number;
  signal?: AbortSignal;
}

/** One read returns at most this much (also when asked for more). */
const MAX_READ_BYTES = 1 << 20;

/** The one stream a read names: by name (which must agree with the kind when both are given), else by kind. */
function streamToRead(program: LogSource, options: ReadLogsOptions): LogStreamName {
  if (!options.streamName) return options.stream ?? "stdout";
  const named = resolveStreamName(program.config, options.streamName, "stream_name");
  if (options.stream !== undefined && options.stream !== named) {
    throw new InvalidArgumentError("stream_name", options.streamName, `names ${named}, but stream asks for ${options.stream}: give one, or the same`);
  }
  return named;
}

/** The streams a follow names, each once, in the order asked. */
function streamsToFollow(program: LogSource, options: FollowLogsOptions): LogStreamName[] {
  const names = options.streamNames ?? [];
  if (names.length === 0) return options.stream ? [options.stream] : ["stdout", "stderr"];
  if (options.stream !== undefined) {
    throw new InvalidArgumentError("stream", options.stream, "give stream or stream_names, not both");
  }
  return [...new Set(names.map((name, i) => resolveStreamName(program.config, name, `stream_names[${i}]`)))];
}

export async function readLogs(program: LogSource, options: ReadLogsOptions): Promise<ReadLogsResult> {
  const file = program.logFile(streamToRead(program, options));
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

/**
 * Follows one stream, or several merged in arrival order. Memory per follower stays bounded:
 * merge.ts reads one chunk ahead per stream (log-follow.ts), and a program has at most
 * 2 + MAX_CUSTOM_STREAMS streams.
 */
export async function* followLogs(program: LogSource, options: FollowLogsOptions = {}): AsyncGenerator<LogChunk> {
  const files = streamsToFollow(program, options).map((stream) => program.logFile(stream));
  if (options.offset !== undefined && options.sinceMs === undefined && files.length > 1) {
    throw new InvalidArgumentError("offset", options.offset, "an offset needs a single stream");
  }
  const starts = await Promise.all(
    files.map(async (file) =>
      options.sinceMs !== undefined
        ? file.offsetSince(options.sinceMs)
        : options.offset !== undefined
          ? options.offset
          : options.tailLines && options.tailLines > 0
            ? file.tailRange(options.tailLines).then((range) => range.offset)
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

async function* tagged(program: LogSource, options: FollowLogsOptions): AsyncGenerator<ProgramLogChunk> {
  for await (const chunk of followLogs(program, options)) yield { program: program.config.name, chunk };
}

/**
 * Follows these programs' streams merged in arrival order (like `pm2 logs`). The memory held
 * while the client does not read is a chunk or three per program (one read ahead per stream in
 * each program's merge, one in this one: merge.ts), plus the gRPC stream's buffer.
 */
export function followAllLogs(programs: LogSource[], options: Omit<FollowLogsOptions, "offset" | "streamNames">): AsyncGenerator<ProgramLogChunk> {
  return merge(programs.map((program) => tagged(program, options)));
}
