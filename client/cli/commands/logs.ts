// `corral logs NAME [-f] [--tail N] [--stderr] [--stream S]... [--prefix]`: the last lines of a
// program's output, or its output as it is written until Ctrl-C (stdout to stdout, stderr to
// stderr when following both). --stream picks streams by name (labels, custom streams);
// --prefix starts each line with its stream's name (its redirect_output label).
import { parseArgs } from "node:util";
import { LogStream } from "../../ts/index.js";
import { parseCount, parsing } from "../args.js";
import { isAbortError, open, quick, type CliContext } from "../context.js";
import { UsageError } from "../usage.js";

const DEFAULT_TAIL_LINES = 20;

/** Prefixes each line with `[name] `, remembering per stream whether the last chunk ended mid-line. */
function linePrefixer(): (name: string, data: Uint8Array) => Buffer {
  const midLine = new Set<string>();
  return (name, data) => {
    const text = Buffer.from(data).toString("utf8");
    const prefix = `[${name}] `;
    let out = midLine.has(name) ? "" : prefix;
    out += text.replace(/\n(?=.)/gs, `\n${prefix}`);
    if (text.endsWith("\n")) midLine.delete(name);
    else midLine.add(name);
    return Buffer.from(out);
  };
}

export async function logs(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parsing("logs", () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        follow: { type: "boolean", short: "f" },
        tail: { type: "string", short: "n" },
        stderr: { type: "boolean" },
        stream: { type: "string", multiple: true },
        prefix: { type: "boolean" },
      },
    }),
  );
  if (positionals.length !== 1) throw new UsageError("name one program", "logs");
  const name = positionals[0]!;
  const tailLines = values.tail === undefined ? DEFAULT_TAIL_LINES : Number(parseCount(values.tail, "--tail", "logs"));
  if (tailLines > 0xffff_ffff) throw new UsageError("--tail: too large", "logs");
  const streamNames = values.stream ?? [];
  if (streamNames.length > 0 && values.stderr) throw new UsageError("give --stderr or --stream, not both", "logs");
  const prefixed = values.prefix ? linePrefixer() : undefined;

  if (!values.follow) {
    if (streamNames.length > 1) throw new UsageError("reading (without -f) takes one --stream", "logs");
    const stream = values.stderr ? LogStream.STDERR : streamNames.length > 0 ? LogStream.UNSPECIFIED : LogStream.STDOUT;
    const { chunk } = await ctx.client.readLogs({ name, stream, streamName: streamNames[0] ?? "", tailLines }, quick(ctx));
    // --tail 0 asks for nothing; the daemon reads it as "no tail" and returns a range instead.
    if (chunk && tailLines > 0) ctx.out(prefixed ? prefixed(chunk.streamName, chunk.data) : chunk.data);
    return 0;
  }

  const stream = values.stderr ? LogStream.STDERR : LogStream.UNSPECIFIED;
  try {
    for await (const { chunk } of ctx.client.followLogs({ name, stream, streamNames, tailLines }, open(ctx))) {
      if (!chunk) continue;
      const data = prefixed ? prefixed(chunk.streamName, chunk.data) : chunk.data;
      // With --stderr (or --stream) the user asked for those streams: they are the output, so they go to stdout.
      if (chunk.stream === LogStream.STDERR && !values.stderr && streamNames.length === 0) ctx.err(data);
      else ctx.out(data);
    }
  } catch (error) {
    if (isAbortError(error) && ctx.signal.aborted) return 0; // Ctrl-C is how following ends
    throw error;
  }
  return 0;
}
