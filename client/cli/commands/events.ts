// `corral events [--after SEQ] [--follow] [--json]`: journaled events after SEQ; without
// --follow it stops at the daemon's last event at the time of the call.
import { parseArgs } from "node:util";
import { EventSchema, WatchEventsResponseSchema } from "../../ts/index.js";
import { noPositionals, parseCount, parsing } from "../args.js";
import { isAbortError, quick, type CliContext } from "../context.js";
import { formatEvent, formatGap, jsonLine } from "../format.js";

export async function events(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parsing("events", () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { after: { type: "string" }, follow: { type: "boolean", short: "f" }, json: { type: "boolean" } },
    }),
  );
  noPositionals(positionals, "events");
  const afterSeq = values.after === undefined ? 0n : parseCount(values.after, "--after", "events");

  // The stream never ends by itself: without --follow, stop at the last event that existed
  // when we asked.
  let lastSeq: bigint | undefined;
  if (!values.follow) {
    lastSeq = (await ctx.client.getServerInfo({}, quick(ctx))).lastEventSeq;
    if (lastSeq <= afterSeq) return 0;
  }

  const stop = new AbortController();
  const onCtrlC = () => stop.abort();
  ctx.signal.addEventListener("abort", onCtrlC, { once: true });
  try {
    for await (const response of ctx.client.watchEvents({ afterSeq }, { signal: stop.signal })) {
      const kind = response.kind;
      if (kind.case === "event") {
        ctx.out(values.json ? jsonLine(EventSchema, kind.value) : formatEvent(kind.value));
        if (lastSeq !== undefined && kind.value.seq >= lastSeq) break;
      } else if (kind.case === "gap") {
        ctx.out(values.json ? jsonLine(WatchEventsResponseSchema, response) : formatGap(kind.value));
        if (lastSeq !== undefined && kind.value.firstAvailableSeq > lastSeq) break;
      }
    }
  } catch (error) {
    if (isAbortError(error) && stop.signal.aborted) return 0; // Ctrl-C ends --follow
    throw error;
  } finally {
    ctx.signal.removeEventListener("abort", onCtrlC);
    stop.abort();
  }
  return 0;
}
