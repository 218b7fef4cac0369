// `corral info` and `corral shutdown`: questions and orders for the daemon itself.
import { existsSync, readFileSync } from "node:fs";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { setTimeout as sleep } from "node:timers/promises";
import { GetServerInfoResponseSchema } from "../../ts/index.js";
import { noPositionals, parseCommand, parseDuration } from "../args.js";
import { quick, type CliContext } from "../context.js";
import { isUnavailable } from "../errors.js";
import { formatClock, formatTime } from "../format.js";
import { jsonOut, messageLine } from "../json.js";

export async function info(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("info", args);
  noPositionals(positionals, "info");
  const serverInfo = await ctx.client.getServerInfo({}, quick(ctx));
  if (values.json) {
    ctx.out(messageLine(GetServerInfoResponseSchema, serverInfo));
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
    ["containment", serverInfo.containment?.description || "-"],
    ...Object.entries(serverInfo.containment?.unavailableControllers ?? {}).map(([controller, why]) => [`no ${controller} limits`, why]),
    ["run as other users", serverInfo.containment?.userSwitching ? "yes (user/uid/gid)" : "no (the daemon does not run as root, or has no setpriv)"],
  ];
  const width = Math.max(...rows.map(([key]) => key!.length)) + 1;
  ctx.out(rows.map(([key, value]) => `${`${key}:`.padEnd(width)}  ${value}\n`).join(""));
  return 0;
}

export async function shutdown(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("shutdown", args);
  /** --json: {"address", "state": "SHUTTING_DOWN" | "SHUT_DOWN" | "STILL_RUNNING"}. */
  const say = (state: string, text: string) => ctx.out(values.json ? jsonOut({ address: ctx.address, state }) : text);
  noPositionals(positionals, "shutdown");
  const timeoutMs = values.timeout === undefined ? 60_000 : parseDuration(values.timeout, "--timeout", "shutdown");
  // A daemon on a local socket runs on this host, so we can watch its process end; one
  // over TCP we can only watch stop answering.
  const localPid = ctx.address.startsWith("/") ? (await ctx.client.getServerInfo({}, quick(ctx))).pid : 0;
  await ctx.client.shutdown({ keepProcesses: values["keep-processes"] === true }, quick(ctx));
  if (values["no-wait"]) {
    say("SHUTTING_DOWN", `daemon at ${ctx.address} is shutting down\n`);
    return 0;
  }
  // The daemon answers before it stops its programs; wait until it is gone so that
  // "corral shutdown && corral server" works.
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (localPid > 0 ? processGone(localPid) : await stoppedAnswering(ctx)) {
      say("SHUT_DOWN", `daemon at ${ctx.address} has shut down\n`);
      return 0;
    }
    await sleep(50, undefined, { signal: ctx.signal });
  }
  if (values.json) say("STILL_RUNNING", "");
  ctx.err(`corral: the daemon at ${ctx.address} is still running after ${values.timeout ?? "60s"}\n`);
  return 1;
}

/** Whether a process has exited (a zombie has: it only waits for its parent to notice). */
function processGone(pid: number): boolean {
  if (existsSync("/proc/self")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
    } catch {
      return true;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function stoppedAnswering(ctx: CliContext): Promise<boolean> {
  try {
    await ctx.client.getServerInfo({}, { signal: ctx.signal, deadline: 1_000 });
    return false;
  } catch (error) {
    if (isUnavailable(error)) return true;
    throw error;
  }
}
