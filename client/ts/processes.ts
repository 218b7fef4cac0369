// CGSE's egse.process helpers in TS's idiom, over FindProcesses and ListZombies.
import type { DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import type { CallOptions, Client } from "nice-grpc";
import type { ProcessEntry, ZombieProcess } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import type { ProcessMonitorDefinition } from "../../gen/ts/corral/v1/process_monitor_nice_grpc.js";

type MonitorClientLike = Client<typeof ProcessMonitorDefinition, DeadlineOptions>;

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
