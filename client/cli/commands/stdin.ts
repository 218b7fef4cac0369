// `corral send NAME [TEXT] [--no-newline] [--close]`: writes a line to a program's stdin
// (WriteStdin), and with --close ends it (CloseStdin).
import { parseCommand } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { jsonOut } from "../json.js";
import { UsageError } from "../usage.js";

export async function send(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("send", args);
  const close = values.close === true;
  if (positionals.length < 1 || positionals.length > 2 || (positionals.length === 1 && !close)) {
    throw new UsageError("give a program name and the text to send (or --close)", "send");
  }
  const [name, text] = positionals as [string, string | undefined];
  let bytesWritten = 0n;
  if (text !== undefined) {
    const data = new TextEncoder().encode(values["no-newline"] ? text : `${text}\n`);
    ({ bytesWritten } = await ctx.client.writeStdin({ name, data }, quick(ctx)));
    if (!values.json) ctx.out(`${name}: sent ${bytesWritten} byte(s)\n`);
  }
  if (close) {
    await ctx.client.closeStdin({ name }, quick(ctx));
    if (!values.json) ctx.out(`${name}: stdin closed\n`);
  }
  if (values.json) ctx.out(jsonOut({ name, bytesWritten: Number(bytesWritten), closed: close }));
  return 0;
}
