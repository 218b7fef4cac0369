// `corral events [--after SEQ] [--follow] [--json]`: journaled events after SEQ; without
// --follow it stops at the daemon's last event at the time of the call. --json: one Event object
// per line (a gap in the journal: {"gap": {...}}).
import { EventGapSchema, EventSchema } from "../../ts/index.js";
import { noPositionals, parseCommand, parseCount } from "../args.js";
import { isAbortError, quick, type CliContext } from "../context.js";
import { formatEvent, formatGap } from "../format.js";
import { UsageError } from "../usage.js";
import { jsonOut, messageLine, toCliJson } from "../json.js";

export async function events(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("events", args);
  if (values["all-hosts"]) throw new UsageError("--all-hosts needs several hosts: give --config FILE (or set $CORRAL_CONFIG)", "events");
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
        ctx.out(values.json ? messageLine(EventSchema, kind.value) : formatEvent(kind.value));
        if (lastSeq !== undefined && kind.value.seq >= lastSeq) break;
      } else if (kind.case === "gap") {
        ctx.out(values.json ? jsonOut({ gap: toCliJson(EventGapSchema, kind.value) }) : formatGap(kind.value));
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
