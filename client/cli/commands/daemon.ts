// `corral info` and `corral shutdown`: questions and orders for the daemon itself.
import { parseArgs } from "node:util";
import { toJsonString } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { setTimeout as sleep } from "node:timers/promises";
import { GetServerInfoResponseSchema } from "../../index.js";
import { parseDuration, parsing } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { isUnavailable } from "../errors.js";
import { formatClock, formatTime } from "../format.js";
import { UsageError } from "../usage.js";

export async function info(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parsing("info", () =>
    parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" } } }),
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "info");
  const serverInfo = await ctx.client.getServerInfo({}, quick(ctx));
  if (values.json) {
    ctx.out(toJsonString(GetServerInfoResponseSchema, serverInfo) + "\n");
    return 0;
  }
  const started = serverInfo.startedAt
    ? `${formatTime(serverInfo.startedAt)} (up ${formatClock(Date.now() - timestampDate(serverInfo.startedAt).getTime())})`
    : "-";
  const rows = [
    ["address", ctx.address],
    ["version", serverInfo.version],
    ["pid", String(serverInfo.pid)],
    ["hostname", serverInfo.hostname],
    ["home", serverInfo.home],
    ["config", serverInfo.configPath || "(built-in example)"],
    ["listen", serverInfo.listen.join(", ") || "-"],
    ["started", started],
    ["programs", String(serverInfo.programs)],
    ["last event", `#${serverInfo.lastEventSeq}`],
    ["ad-hoc programs", serverInfo.allowAdhoc ? "allowed" : "not allowed"],
  ];
  const width = Math.max(...rows.map(([key]) => key!.length)) + 1;
  ctx.out(rows.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${value}\n`).join(""));
  return 0;
}

export async function shutdown(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parsing("shutdown", () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { "no-wait": { type: "boolean" }, timeout: { type: "string" } },
    }),
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "shutdown");
  const timeoutMs = values.timeout === undefined ? 60_000 : parseDuration(values.timeout, "--timeout", "shutdown");
  await ctx.client.shutdown({}, quick(ctx));
  if (values["no-wait"]) {
    ctx.out(`daemon at ${ctx.address} is shutting down\n`);
    return 0;
  }
  // The daemon answers before it stops its programs; wait until it is gone so that
  // "corral shutdown && corral server" works.
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      await ctx.client.getServerInfo({}, { signal: ctx.signal, deadline: 1_000 });
    } catch (error) {
      if (isUnavailable(error)) {
        ctx.out(`daemon at ${ctx.address} has shut down\n`);
        return 0;
      }
      throw error;
    }
    await sleep(100, undefined, { signal: ctx.signal });
  }
  ctx.err(`corral: the daemon at ${ctx.address} is still running after ${values.timeout ?? "60s"}\n`);
  return 1;
}
