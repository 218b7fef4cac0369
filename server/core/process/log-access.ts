// Reading a program's logs as clients ask for them: a range or the last N lines of one stream,
// or following one stream or several merged in arrival order. Streams are picked by kind
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
  const offset = options.tailLines && options.tailLines > 0 ? await file.tailOffset(options.tailLines) : (options.offset ?? 0);
  const { first, end, ...chunk } = await file.read(offset, maxBytes);
  return { chunk, firstOffset: first, endOffset: end };
}

/**
 * Follows one stream, or several merged in arrival order. Memory per follower stays bounded:
 * merge.ts reads one chunk ahead per stream (log-follow.ts), and a program has at most
 * 2 + MAX_CUSTOM_STREAMS streams.
 */
export async function* followLogs(program: LogSource, options: FollowLogsOptions = {}): AsyncGenerator<LogChunk> {
  const files = streamsToFollow(program, options).map((stream) => program.logFile(stream));
  if (options.offset !== undefined && files.length > 1) {
    throw new InvalidArgumentError("offset", options.offset, "an offset needs a single stream");
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
