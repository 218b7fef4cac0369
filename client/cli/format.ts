// Human-readable output of the `corral` CLI: aligned tables, supervisorctl-style state and
// uptime columns and one-line event descriptions (--json is json.ts).
import { durationMs, timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ProcessState, type Event, type EventGap, type ProcessInfo } from "../ts/index.js";

/** RUNNING, STOPPED, ... (the proto name without its PROCESS_STATE_ prefix). */
export function stateName(state: ProcessState): string {
  return ProcessState[state] ?? String(state);
}

/** supervisorctl's uptime form: "0:01:02", "3 days, 4:05:06". */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const clock = `${hours}:${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  return days > 0 ? `${days} day${days === 1 ? "" : "s"}, ${clock}` : clock;
}

/** A run is alive in these states, so pid and uptime mean something. */
export function isAlive(state: ProcessState): boolean {
  return state === ProcessState.STARTING || state === ProcessState.RUNNING || state === ProcessState.STOPPING;
}

export function uptimeMs(info: ProcessInfo, nowMs = Date.now()): number | undefined {
  if (!isAlive(info.state)) return undefined;
  if (info.uptime) return durationMs(info.uptime);
  if (info.run?.startedAt) return nowMs - timestampDate(info.run.startedAt).getTime();
  return undefined;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)));
  return `${all
    .map((row) =>
      row
        .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

/** The `corral status` table: NAME STATE READY PID UPTIME RESTARTS REASON (READY: "yes"/"no" while up, else "-"). */
export function formatStatusTable(processes: ProcessInfo[], options: { hostColumn?: boolean } = {}): string {
  // A HOST column only for configs that name hosts: a one-host setup keeps its narrow table.
  const withHost = options.hostColumn === true || processes.some((p) => p.spec?.host !== undefined && p.spec.host !== "");
  const rows = processes.map((p) => {
    const alive = isAlive(p.state) && p.run !== undefined && p.run.pid > 0;
    const uptime = uptimeMs(p);
    return [
      p.name,
      ...(withHost ? [p.remote ? `${p.host} (remote)` : p.host] : []),
      stateName(p.state),
      isAlive(p.state) ? (p.ready ? "yes" : "no") : "-",
      alive ? String(p.run!.pid) : "-",
      uptime === undefined ? "-" : formatClock(uptime),
      String(p.restarts),
      p.stateReason,
    ];
  });
  return formatTable(["NAME", ...(withHost ? ["HOST"] : []), "STATE", "READY", "PID", "UPTIME", "RESTARTS", "REASON"], rows);
}

/** Local time with milliseconds: "2024-05-01 10:00:00.123". */
export function formatTime(timestamp: Timestamp | undefined): string {
  if (!timestamp) return "-".padEnd(23);
  const d = timestampDate(timestamp);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** What an event says, in words. */
export function describeEvent(event: Event): string {
  const detail = event.detail;
  switch (detail.case) {
    case "stateChanged": {
      const change = `${stateName(detail.value.from)} -> ${stateName(detail.value.to)}`;
      return detail.value.reason ? `${change} (${detail.value.reason})` : change;
    }
    case "processStarted":
      return `started, pid ${detail.value.pid}`;
    case "processExited": {
      const exited = detail.value;
      const how = exited.signal ? `killed by ${exited.signal}` : `exited with code ${exited.exitCode ?? "?"}`;
      const uptime = exited.uptime ? ` after ${formatClock(durationMs(exited.uptime))}` : "";
      return `pid ${exited.pid} ${how}${uptime}${exited.expected ? "" : " (unexpected)"}`;
    }
    case "spawnFailed":
      return `spawn failed: ${detail.value.errno} ${detail.value.path}: ${detail.value.message}`;
    case "server":
      return `daemon: ${detail.value.message}`;
    case "configApplied": {
      const diff = detail.value.diff;
      const part = (word: string, names: string[] | undefined) => (names && names.length > 0 ? [`${word} ${names.join(", ")}`] : []);
      const parts = [
        ...part("added", diff?.added),
        ...part("changed", diff?.changed),
        ...part("removed", diff?.removed),
        ...part("restarted", diff?.restarted),
      ];
      return `config applied: ${parts.length > 0 ? parts.join("; ") : "no changes"}`;
    }
    case "taskRestored":
      return `task ${detail.value.task} restored: ${detail.value.message}`;
    default:
      return "(unknown event)";
  }
}

/** One line per event: time, #seq, program, what happened. */
export function formatEvent(event: Event): string {
  const run = event.runId > 0n ? ` run ${event.runId}` : "";
  return `${formatTime(event.time)}  #${event.seq}  ${event.program || "-"}${run}  ${describeEvent(event)}\n`;
}

export function formatGap(gap: EventGap): string {
  return `-- ${gap.missed} event(s) missed after #${gap.afterSeq}; the journal continues at #${gap.firstAvailableSeq} --\n`;
}

/** An address as a user would type it: the socket path, or host:port. */
export function displayAddress(target: string): string {
  return target.startsWith("unix:///") ? target.slice("unix://".length) : target;
}
