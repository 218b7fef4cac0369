// `corral logs [NAME] [-f] [--tail N] [--since D] [--stdout|--stderr|--stream S...] [--prefix]
// [--json]`. Without NAME it follows every program, each line prefixed by program and stream
// (like `pm2 logs`); with NAME it prints the last lines of both streams (stdout to stdout, stderr
// to stderr), or follows them; --stream picks streams by name (labels, custom streams), --prefix
// starts each line with its stream's name. --json prints one object per line: {program, stream,
// offset, time, line}, the offset being the line's logical byte offset in its stream (which
// ReadLogs reads from), the stream its name (its label).
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { LogGapSchema, LogStream, type LogChunk, type LogGap } from "../../ts/index.js";
import { parseCommand, parseCount, parseDuration } from "../args.js";
import { isAbortError, open, quick, type CliContext } from "../context.js";
import { jsonOut, toCliJson, type Json } from "../json.js";
import { UsageError } from "../usage.js";

const DEFAULT_TAIL_LINES = 20;
/** Following every program starts with this many lines of each stream. */
const DEFAULT_ALL_TAIL_LINES = 10;
/** A line longer than this is printed in pieces (a program that never writes a newline cannot grow the CLI without bound). */
const MAX_LINE_BYTES = 64 * 1024;

/** A chunk's stream by name: its label (stream_name), else stdout / stderr. */
function streamName(chunk: { stream: LogStream; streamName: string }): string {
  return chunk.streamName || (chunk.stream === LogStream.STDERR ? "stderr" : "stdout");
}

/** One line of output: where it is (program, stream, logical offset) and its text. */
export interface LogLine {
  program: string;
  /** The stream's name (its label). */
  stream: string;
  /** The standard stream it is, for where a line is printed. */
  kind: LogStream;
  offset: number;
  time: string;
  line: string;
}

/**
 * Cuts chunks of one stream into lines, remembering each line's offset. A partial line waits
 * for the rest (up to MAX_LINE_BYTES), and is flushed when the stream ends or jumps (a gap).
 */
class LineSplitter {
  private pending = Buffer.alloc(0);
  private pendingOffset = 0;

  constructor(
    private readonly program: string,
    private readonly stream: string,
    private readonly kind: LogStream,
  ) {}

  push(chunk: LogChunk, emit: (line: LogLine) => void): void {
    if (this.pending.length > 0 && Number(chunk.offset) !== this.pendingOffset + this.pending.length) this.flush(emit, chunk.time);
    if (this.pending.length === 0) this.pendingOffset = Number(chunk.offset);
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk.data]) : Buffer.from(chunk.data);
    const time = chunk.time ? new Date(Number(chunk.time.seconds) * 1000 + Math.floor(chunk.time.nanos / 1e6)).toISOString() : "";
    for (;;) {
      const newline = data.indexOf(10);
      const cut = newline >= 0 ? newline + 1 : data.length >= MAX_LINE_BYTES ? MAX_LINE_BYTES : -1;
      if (cut < 0) break;
      const text = data.subarray(0, newline >= 0 ? newline : cut).toString("utf8");
      emit({ program: this.program, stream: this.stream, kind: this.kind, offset: this.pendingOffset, time, line: text });
      this.pendingOffset += cut;
      data = data.subarray(cut);
    }
    this.pending = data;
  }

  flush(emit: (line: LogLine) => void, time?: { seconds: bigint; nanos: number }): void {
    if (this.pending.length === 0) return;
    const iso = time ? new Date(Number(time.seconds) * 1000).toISOString() : new Date().toISOString();
    emit({ program: this.program, stream: this.stream, kind: this.kind, offset: this.pendingOffset, time: iso, line: this.pending.toString("utf8") });
    this.pendingOffset += this.pending.length;
    this.pending = Buffer.alloc(0);
  }
}

/** Splitters by program and stream, and where their lines go. */
class LineRouter {
  private readonly splitters = new Map<string, LineSplitter>();

  constructor(
    private readonly emit: (line: LogLine) => void,
    private readonly gap: (program: string, gap: LogGap) => void,
  ) {}

  push(program: string, chunk: LogChunk): void {
    for (const gap of chunk.gaps) this.gap(program, gap);
    const stream = streamName(chunk);
    const key = `${program}\0${stream}`;
    let splitter = this.splitters.get(key);
    if (!splitter) this.splitters.set(key, (splitter = new LineSplitter(program, stream, chunk.stream)));
    splitter.push(chunk, this.emit);
  }

  flush(): void {
    for (const splitter of this.splitters.values()) splitter.flush(this.emit);
  }
}

function gapText(gap: LogGap): string {
  const reason = toCliJson(LogGapSchema, gap).reason;
  return `${Number(gap.toOffset - gap.fromOffset)} bytes dropped (${String(reason).toLowerCase()}) at offsets ${gap.fromOffset}-${gap.toOffset}`;
}

export async function logs(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("logs", args);
  if (positionals.length > 1) throw new UsageError("name one program (or none: every program)", "logs");
  if (values.stdout && values.stderr) throw new UsageError("--stdout and --stderr pick one stream; give neither for both", "logs");
  const name = positionals[0];
  const allPrograms = name === undefined;
  const tailLines = values.tail === undefined ? (allPrograms ? DEFAULT_ALL_TAIL_LINES : DEFAULT_TAIL_LINES) : Number(parseCount(values.tail, "--tail", "logs"));
  if (tailLines > 0xffff_ffff) throw new UsageError("--tail: too large", "logs");
  const sinceMs = values.since === undefined ? undefined : parseDuration(values.since, "--since", "logs");
  const since = sinceMs === undefined ? undefined : timestampFromMs(Date.now() - sinceMs);
  const only: LogStream | undefined = values.stdout ? LogStream.STDOUT : values.stderr ? LogStream.STDERR : undefined;
  const streamNames = values.stream ?? [];
  if (streamNames.length > 0 && only !== undefined) throw new UsageError("give --stdout/--stderr or --stream, not both", "logs");
  if (streamNames.length > 0 && allPrograms) throw new UsageError("--stream names the streams of one program: give its NAME", "logs");
  if (streamNames.length > 1 && !values.follow) throw new UsageError("reading (without -f) takes one --stream", "logs");
  /** The user picked streams: they are the output, so every line goes to stdout. */
  const picked = only !== undefined || streamNames.length > 0;
  const json = values.json === true;

  // Prefixes are padded to the longest program name, so the lines' text lines up.
  const width = allPrograms ? Math.max(0, ...(await ctx.client.listProcesses({}, quick(ctx))).processes.map((p) => p.name.length)) : 0;
  const emit = (line: LogLine) => {
    const { kind: _kind, ...shape } = line;
    const text = values.prefix ? `[${line.stream}] ${line.line}\n` : `${line.line}\n`;
    const short = line.stream === "stdout" ? "out" : line.stream === "stderr" ? "err" : line.stream;
    if (json) ctx.out(jsonOut({ ...shape } satisfies Record<string, Json>));
    else if (allPrograms) ctx.out(`${line.program.padEnd(width)} ${short} | ${line.line}\n`);
    else if (line.kind === LogStream.STDERR && !picked) ctx.err(text);
    else ctx.out(text);
  };
  const gap = (program: string, g: LogGap) => {
    if (json) ctx.out(jsonOut({ program, gap: toCliJson(LogGapSchema, g) }));
    else ctx.err(`-- ${program} ${streamName(g)}: ${gapText(g)} --\n`);
  };
  const router = new LineRouter(emit, gap);

  if (!allPrograms && !values.follow) {
    const reads =
      streamNames.length > 0
        ? [{ streamName: streamNames[0]! }]
        : (only === undefined ? [LogStream.STDOUT, LogStream.STDERR] : [only]).map((stream) => ({ stream }));
    for (const which of reads) await readStream(ctx, name!, which, tailLines, since, router);
    router.flush();
    return 0;
  }

  try {
    const request = allPrograms
      ? { allPrograms: true, stream: only ?? LogStream.UNSPECIFIED, tailLines, since }
      : { name: name!, stream: only ?? LogStream.UNSPECIFIED, streamNames, tailLines, since };
    for await (const { chunk } of ctx.client.followLogs(request, open(ctx))) {
      if (chunk) router.push(chunk.program || name || "", chunk);
    }
  } catch (error) {
    if (isAbortError(error) && ctx.signal.aborted) {
      router.flush();
      return 0; // Ctrl-C is how following ends
    }
    throw error;
  }
  router.flush();
  return 0;
}

/** One stream's last lines (or, with since, everything written since then, read range by range). */
async function readStream(
  ctx: CliContext,
  name: string,
  which: { stream?: LogStream; streamName?: string },
  tailLines: number,
  since: ReturnType<typeof timestampFromMs> | undefined,
  router: LineRouter,
): Promise<void> {
  if (since === undefined) {
    // --tail 0 asks for nothing; the daemon reads it as "no tail" and returns a range instead.
    if (tailLines === 0) return;
    const { chunk } = await ctx.client.readLogs({ name, ...which, tailLines }, quick(ctx));
    if (chunk) router.push(name, chunk);
    return;
  }
  let response = await ctx.client.readLogs({ name, ...which, since }, quick(ctx));
  for (;;) {
    const chunk = response.chunk;
    if (!chunk) return;
    router.push(name, chunk);
    const next = chunk.offset + BigInt(chunk.data.length);
    if (chunk.data.length === 0 || next >= response.endOffset) return;
    response = await ctx.client.readLogs({ name, ...which, offset: next }, quick(ctx));
  }
}
