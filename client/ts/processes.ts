// CGSE's egse.process helpers in TS's idiom, over FindProcesses and ListZombies, and QMI's
// sequential stop-all as one call (StopAll with `sequential`).
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import type { CallOptions, Client } from "nice-grpc";
import { StopAllRequestSchema, StopWait, type ProgramResult } from "../../gen/ts/corral/v1/process_manager_pb.js";
import type { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import type { ProcessEntry, ZombieProcess } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import type { ProcessMonitorDefinition } from "../../gen/ts/corral/v1/process_monitor_nice_grpc.js";

type MonitorClientLike = Client<typeof ProcessMonitorDefinition, DeadlineOptions>;
type ManagerClientLike = Client<typeof ProcessManagerDefinition, DeadlineOptions>;

/** CGSE's matching rules: contains (default true) matches substrings; caseSensitive (default false). */
export interface FindOptions {
  contains?: boolean;
  caseSensitive?: boolean;
}

/** The host's processes whose command line matches every item. */
export async function findProcesses(
  monitor: MonitorClientLike,
  items: string | string[],
  options: FindOptions = {},
  call?: CallOptions,
): Promise<ProcessEntry[]> {
  const request = { items: typeof items === "string" ? [items] : items, contains: options.contains ?? true, caseSensitive: options.caseSensitive ?? false };
  return (await monitor.findProcesses(request, call)).processes;
}

/** CGSE's is_process_running: whether a matching process runs. */
export async function isProcessRunning(monitor: MonitorClientLike, items: string | string[], options: FindOptions = {}, call?: CallOptions): Promise<boolean> {
  return (await findProcesses(monitor, items, options, call)).length > 0;
}

/** CGSE's is_process_running(..., as_list=True): the matching pids. */
export async function processPids(monitor: MonitorClientLike, items: string | string[], options: FindOptions = {}, call?: CallOptions): Promise<number[]> {
  return (await findProcesses(monitor, items, options, call)).map((p) => p.pid);
}

/** CGSE's list_zombies. */
export async function listZombies(monitor: MonitorClientLike, call?: CallOptions): Promise<ZombieProcess[]> {
  return (await monitor.listZombies({}, call)).zombies;
}

/** One entry of CGSE's list_processes: pid, status in psutil's words ("sleeping", "running", "zombie"...), the command line as one string. */
export interface HostProcess {
  pid: number;
  status: string;
  cmdline: string;
}

/** psutil's word for each state letter of /proc/PID/stat (psutil's PROC_STATUSES on Linux). */
const PROC_STATUS: Record<string, string> = {
  R: "running",
  S: "sleeping",
  D: "disk-sleep",
  T: "stopped",
  t: "tracing-stop",
  Z: "zombie",
  X: "dead",
  x: "dead",
  K: "wake-kill",
  W: "waking",
  P: "parked",
  I: "idle",
};

/** psutil's status word for a ProcessEntry's state letter (the letter itself when psutil has none). */
export function statusOf(state: string): string {
  return PROC_STATUS[state] ?? state;
}

/**
 * CGSE's list_processes: the host's processes matching every item, as pid, status and command
 * line. As in CGSE, at least one item is needed (the daemon answers INVALID_ARGUMENT to none).
 */
export async function listProcesses(
  monitor: MonitorClientLike,
  items: string | string[],
  options: FindOptions = {},
  call?: CallOptions,
): Promise<HostProcess[]> {
  return (await findProcesses(monitor, items, options, call)).map((p) => ({ pid: p.pid, status: statusOf(p.state), cmdline: p.cmdline.join(" ") }));
}

export interface StopAllOptions {
  /** Only these programs (default: all). */
  names?: string[];
  /** Only programs with all these labels. */
  labels?: Record<string, string>;
  /** One at a time in reverse order, each gone before the next (QMI's proc_stop); false: each dependency level at once; absent: the daemon's server.stop_order. */
  sequential?: boolean;
  /** Return once the signals are out instead of when every group is gone. */
  noWait?: boolean;
  /** How long the daemon waits for the stops. */
  timeoutMs?: number;
}

/** StopAll, dependents first; each result's `shutdown` says how its stop went (soft, hard, survivors, not running). */
export async function stopAll(manager: ManagerClientLike, options: StopAllOptions = {}, call?: CallOptions & DeadlineOptions): Promise<ProgramResult[]> {
  const request = create(StopAllRequestSchema, {
    selector: { names: options.names ?? [], matchLabels: options.labels ?? {} },
    wait: options.noWait ? StopWait.NONE : StopWait.STOPPED,
    ...(options.sequential !== undefined ? { sequential: options.sequential } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: durationFromMs(options.timeoutMs) } : {}),
  });
  return (await manager.stopAll(request, call)).results;
}
