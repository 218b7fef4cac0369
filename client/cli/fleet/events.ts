// `corral events --all-hosts`: every host's event journal, each line tagged with its host (a
// "host" key in --json). Without --follow: each host's events up to its last one at the time
// of the call, merged by time. With --follow: lines as they come, from all hosts at once.
// Sequence numbers (and --after) are per host. An unreachable host is reported, exit code 1.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { EventSchema, type Event } from "../../ts/index.js";
import { noPositionals, parseCommand, parseCount } from "../args.js";
import { toCliJson } from "../json.js";
import { isAbortError } from "../context.js";
import { formatEvent, formatGap } from "../format.js";
import type { FleetContext } from "./context.js";

export async function fleetEvents(ctx: FleetContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("events", args);
  noPositionals(positionals, "events");
  const afterSeq = values.after === undefined ? 0n : parseCount(values.after, "--after", "events");
  const width = Math.max(...ctx.scope.map((host) => host.length));
  const line = (host: string, event: Event) =>
    values.json ? `${JSON.stringify({ host, ...toCliJson(EventSchema, event) })}\n` : `${host.padEnd(width)}  ${formatEvent(event)}`;

  let exitCode = 0;
  const stop = new AbortController();
  const onCtrlC = () => stop.abort();
  ctx.signal.addEventListener("abort", onCtrlC, { once: true });
  const collected: { host: string; event: Event }[] = [];
  try {
    const lastSeqs = values.follow
      ? undefined
      : await ctx.fleet.onEachHost(ctx.scope, async (client, _host, options) => (await client.processManager.getServerInfo({}, options)).lastEventSeq, {
          signal: stop.signal,
        });
    await Promise.all(
      ctx.scope.map(async (host) => {
        const last = lastSeqs?.find((answer) => answer.host === host);
        if (last && !last.ok) {
          ctx.err(`corral: ${last.error.message}\n`);
          exitCode = 1;
          return;
        }
        const lastSeq = last?.ok ? last.value : undefined;
        if (lastSeq !== undefined && lastSeq <= afterSeq) return;
        try {
          for await (const response of ctx.fleet.client(host).processManager.watchEvents({ afterSeq }, { signal: stop.signal })) {
            const kind = response.kind;
            if (kind.case === "event") {
              if (lastSeq === undefined) ctx.out(line(host, kind.value));
              else collected.push({ host, event: kind.value });
              if (lastSeq !== undefined && kind.value.seq >= lastSeq) break;
            } else if (kind.case === "gap") {
              ctx.out(`${host.padEnd(width)}  ${formatGap(kind.value)}`);
              if (lastSeq !== undefined && kind.value.firstAvailableSeq > lastSeq) break;
            }
          }
        } catch (error) {
          if (isAbortError(error) && stop.signal.aborted) return;
          ctx.err(`corral: ${ctx.fleet.asHostError(host, error).message}\n`);
          exitCode = 1;
        }
      }),
    );
  } finally {
    ctx.signal.removeEventListener("abort", onCtrlC);
    stop.abort();
  }
  const timeOf = (event: Event) => (event.time ? timestampMs(event.time) : 0);
  collected.sort((a, b) => timeOf(a.event) - timeOf(b.event));
  for (const { host, event } of collected) ctx.out(line(host, event));
  return exitCode;
}
