// `corral send NAME [TEXT] [--no-newline] [--close]`: writes a line to a program's stdin
// (WriteStdin), and with --close ends it (CloseStdin).
import { parseArgs } from "node:util";
import { parsing } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { UsageError } from "../usage.js";

export async function send(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parsing("send", () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { "no-newline": { type: "boolean", short: "n" }, close: { type: "boolean" } },
    }),
  );
  const close = values.close === true;
  if (positionals.length < 1 || positionals.length > 2 || (positionals.length === 1 && !close)) {
    throw new UsageError("give a program name and the text to send (or --close)", "send");
  }
  const [name, text] = positionals as [string, string | undefined];
  if (text !== undefined) {
    const data = new TextEncoder().encode(values["no-newline"] ? text : `${text}\n`);
    const { bytesWritten } = await ctx.client.writeStdin({ name, data }, quick(ctx));
    ctx.out(`${name}: sent ${bytesWritten} byte(s)\n`);
  }
  if (close) {
    await ctx.client.closeStdin({ name }, quick(ctx));
    ctx.out(`${name}: stdin closed\n`);
  }
  return 0;
}
