// `corral logs NAME [-f] [--tail N] [--stderr]`: the last lines of a program's output, or its
// output as it is written until Ctrl-C (stdout to stdout, stderr to stderr when following both).
import { parseArgs } from "node:util";
import { LogStream } from "../../ts/index.js";
import { parseCount, parsing } from "../args.js";
import { isAbortError, open, quick, type CliContext } from "../context.js";
import { UsageError } from "../usage.js";

const DEFAULT_TAIL_LINES = 20;

export async function logs(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parsing("logs", () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        follow: { type: "boolean", short: "f" },
        tail: { type: "string", short: "n" },
        stderr: { type: "boolean" },
      },
    }),
  );
  if (positionals.length !== 1) throw new UsageError("name one program", "logs");
  const name = positionals[0]!;
  const tailLines = values.tail === undefined ? DEFAULT_TAIL_LINES : Number(parseCount(values.tail, "--tail", "logs"));
  if (tailLines > 0xffff_ffff) throw new UsageError("--tail: too large", "logs");

  if (!values.follow) {
    const stream = values.stderr ? LogStream.STDERR : LogStream.STDOUT;
    const { chunk } = await ctx.client.readLogs({ name, stream, tailLines }, quick(ctx));
    // --tail 0 asks for nothing; the daemon reads it as "no tail" and returns a range instead.
    if (chunk && tailLines > 0) ctx.out(chunk.data);
    return 0;
  }

  const stream = values.stderr ? LogStream.STDERR : LogStream.UNSPECIFIED;
  try {
    for await (const { chunk } of ctx.client.followLogs({ name, stream, tailLines }, open(ctx))) {
      if (!chunk) continue;
      // With --stderr the user asked for that stream: it is the output, so it goes to stdout.
      if (chunk.stream === LogStream.STDERR && !values.stderr) ctx.err(chunk.data);
      else ctx.out(chunk.data);
    }
  } catch (error) {
    if (isAbortError(error) && ctx.signal.aborted) return 0; // Ctrl-C is how following ends
    throw error;
  }
  return 0;
}
