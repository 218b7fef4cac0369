// The ProcessMonitor commands of the `corral` CLI: `stats`, `ps`, `zombies` and `run`
// (a monitored run that streams output and exits with the command's code, 124 on timeout).
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { constants } from "node:os";
import {
  GetStatsResponseSchema,
  LogStream,
  ProcessEntrySchema,
  RunMonitoredResponseSchema,
  ZombieProcessSchema,
  MonitoredOutcome,
  ProgressSource,
  TimeoutKind,
  WatchStatsResponseSchema,
  type ProcessStats,
  type StatsSample,
  type StatsTarget,
} from "../../ts/index.js";
import { parseCommand, parseDuration, parseOptions } from "../args.js";
import { open, quick, type CliContext } from "../context.js";
import { formatClock, formatTable } from "../format.js";
import { jsonOut, messageLine, toCliJson } from "../json.js";
import { COMMANDS } from "../spec.js";
import { UsageError } from "../usage.js";

/** Exit code of `corral run` when a timeout killed the command, as timeout(1) uses. */
const TIMED_OUT_EXIT = 124;

function targetOf(text: string): { target: StatsTarget["target"] } {
  return /^\d+$/.test(text) ? { target: { case: "pid", value: Number(text) } } : { target: { case: "program", value: text } };
}

export function formatBytes(bytes: bigint | number): string {
  const n = Number(bytes);
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)}G`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)}M`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)}K`;
  return `${n}B`;
}

function statsRow(label: string, s: ProcessStats): string[] {
  return [
    label,
    String(s.pid),
    s.name,
    s.state,
    s.cpuPercent === undefined ? "?" : s.cpuPercent.toFixed(1),
    formatBytes(s.rssBytes),
    formatBytes(s.vsizeBytes),
    String(s.threads),
    s.openFds === undefined ? "-" : String(s.openFds),
    s.uptime ? formatClock(durationMs(s.uptime)) : "-",
  ];
}

const STATS_HEADER = ["", "PID", "NAME", "S", "CPU%", "RSS", "VSZ", "THR", "FDS", "UPTIME"];

function formatSample(sample: StatsSample, label: string): string[][] {
  if (sample.error) return [[label, "-", sample.error, "", "", "", "", "", "", ""]];
  if (!sample.process) return [];
  const rows = [statsRow(label, sample.process)];
  if (sample.children.length > 0) {
    for (const child of sample.children) rows.push(statsRow("  child", child));
    rows.push(statsRow("  total", sample.total!));
  }
  return rows;
}

/** `corral stats NAME|PID... [--children] [--watch] [--interval 1s] [--json]` */
export async function stats(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("stats", args);
  if (positionals.length === 0) throw new UsageError("name a program or a pid", "stats");
  const intervalMs = values.interval ? parseDuration(values.interval, "--interval", "stats") : values.watch ? 1000 : 500;
  const targets = positionals.map(targetOf);
  if (!values.watch) {
    const rows: string[][] = [];
    for (const [i, target] of targets.entries()) {
      const response = await ctx.monitor.getStats(
        { target, includeChildren: values.children, interval: durationFromMs(intervalMs) },
        open(ctx, intervalMs + 15_000),
      );
      if (values.json) ctx.out(messageLine(GetStatsResponseSchema, response));
      else rows.push(...formatSample(response.sample!, positionals[i]!));
    }
    if (!values.json) ctx.out(formatTable(STATS_HEADER, rows));
    return 0;
  }
  for await (const tick of ctx.monitor.watchStats({ targets, includeChildren: values.children, interval: durationFromMs(intervalMs) }, open(ctx))) {
    if (values.json) {
      ctx.out(messageLine(WatchStatsResponseSchema, tick));
    } else {
      ctx.out(`-- ${new Date().toLocaleTimeString()} --\n`);
      ctx.out(
        formatTable(
          STATS_HEADER,
          tick.samples.flatMap((sample, i) => formatSample(sample, positionals[i]!)),
        ),
      );
    }
  }
  return 0;
}

/** `corral ps ITEM... [--exact] [--case-sensitive] [--json]` */
export async function ps(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("ps", args);
  if (positionals.length === 0) throw new UsageError("give at least one item to match", "ps");
  const response = await ctx.monitor.findProcesses(
    { items: positionals, contains: !values.exact, caseSensitive: values["case-sensitive"] ?? false },
    quick(ctx),
  );
  // This very command line contains the items too.
  const processes = response.processes.filter((p) => p.pid !== process.pid);
  if (values.json) {
    ctx.out(jsonOut(processes.map((p) => toCliJson(ProcessEntrySchema, p))));
  } else if (processes.length === 0) {
    ctx.err("no matching processes\n");
    return 1;
  } else {
    ctx.out(
      formatTable(
        ["PID", "PPID", "S", "PROGRAM", "COMMAND"],
        processes.map((p) => [String(p.pid), String(p.ppid), p.state, p.program || "-", p.cmdline.join(" ")]),
      ),
    );
  }
  return 0;
}

/** `corral zombies [--json]` */
export async function zombies(ctx: CliContext, args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("zombies", args);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "zombies");
  const response = await ctx.monitor.listZombies({}, quick(ctx));
  if (values.json) {
    ctx.out(jsonOut(response.zombies.map((z) => toCliJson(ZombieProcessSchema, z))));
  } else if (response.zombies.length === 0) {
    ctx.err("no zombies\n");
  } else {
    ctx.out(
      formatTable(
        ["PID", "PPID", "NAME", "PROGRAM", "PARENT"],
        response.zombies.map((z) => [String(z.pid), String(z.ppid), z.name, z.program || "-", z.parentIsDaemon ? "corral daemon (a bug)" : "-"]),
      ),
    );
  }
  return 0;
}

/** `corral run [--inactivity 30s] [--timeout 10m] [--progress REGEX] [--kill-signal SIG] [--grace 5s] -- CMD ARGS...` */
export async function run(ctx: CliContext, args: string[]): Promise<number> {
  const split = args.indexOf("--");
  const optionArgs = split >= 0 ? args.slice(0, split) : args;
  const { values, positionals } = parseOptions(COMMANDS.run.options, optionArgs, "run");
  const command = split >= 0 ? args.slice(split + 1) : positionals;
  if (split >= 0 && positionals.length > 0) throw new UsageError(`unexpected "${positionals[0]}" before "--"`, "run");
  if (command.length === 0) throw new UsageError("give the command to run after --", "run");
  const ms = (value: string | undefined, option: string) => (value === undefined ? undefined : durationFromMs(parseDuration(value, option, "run")));
  const events = ctx.monitor.runMonitored(
    {
      command: command[0]!,
      args: command.slice(1),
      cwd: values.cwd ?? process.cwd(),
      inactivityTimeout: ms(values.inactivity, "--inactivity"),
      totalTimeout: ms(values.timeout, "--timeout"),
      killGrace: ms(values.grace, "--grace"),
      killSignal: values["kill-signal"] ?? "",
      progressPattern: values.progress ?? "",
    },
    open(ctx),
  );
  for await (const response of events) {
    const event = response.event;
    // --json: every event of the run as a line (output, progress, the result); the exit code is the command's still.
    if (values.json) ctx.out(messageLine(RunMonitoredResponseSchema, response));
    switch (event.case) {
      case "output":
        if (values.json) break;
        if (event.value.stream === LogStream.STDERR) ctx.err(event.value.data);
        else ctx.out(event.value.data);
        break;
      case "progress":
        if (event.value.source === ProgressSource.REPORT && !values.json) ctx.err(`corral: progress: ${event.value.message}\n`);
        break;
      case "result": {
        const result = event.value;
        switch (result.outcome) {
          case MonitoredOutcome.COMPLETED:
            return 0;
          case MonitoredOutcome.FAILED:
            if (result.exitCode !== undefined) return result.exitCode;
            return 128 + (constants.signals[result.signal as NodeJS.Signals] ?? 0);
          case MonitoredOutcome.TIMED_OUT:
            ctx.err(
              `corral: ${result.timeout === TimeoutKind.INACTIVITY ? "inactivity" : "total"} timeout: ${result.message}${result.sigkilled ? " (SIGKILL was needed)" : ""}\n`,
            );
            return TIMED_OUT_EXIT;
          case MonitoredOutcome.SPAWN_FAILED:
            ctx.err(`corral: cannot run ${result.spawnPath}: ${result.message}\n`);
            return result.spawnErrno === "ENOENT" ? 127 : 126;
          default:
            ctx.err(`corral: ${result.message}\n`);
            return 1;
        }
      }
    }
  }
  ctx.err("corral: the run ended without a result\n");
  return 1;
}
