// The one table of who may call what: every RPC of the served services and the least role it
// needs. Roles are ordered: admin can do what operator can, operator what viewer can.
import type { Role } from "../core/access.js";

/** "open": anyone who reaches the port (health checks, so load balancers and probes need no token). */
export type Requirement = Role | "open";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAllows(role: Role, needed: Requirement): boolean {
  return needed === "open" || RANK[role] >= RANK[needed];
}

const PM = "/corral.v1.ProcessManager/";
const TR = "/corral.v1.TaskRunner/";
const MON = "/corral.v1.ProcessMonitor/";

export const METHOD_ROLES: Readonly<Record<string, Requirement>> = {
  // viewer: reads, follows, watches
  [`${PM}ListProcesses`]: "viewer",
  [`${PM}GetProcess`]: "viewer",
  [`${PM}ReadLogs`]: "viewer",
  [`${PM}FollowLogs`]: "viewer",
  [`${PM}WatchEvents`]: "viewer",
  [`${PM}GetServerInfo`]: "viewer",
  [`${TR}ListTaskTypes`]: "viewer",
  [`${TR}GetTask`]: "viewer",
  [`${TR}ListTasks`]: "viewer",
  [`${TR}GetSettings`]: "viewer",
  [`${TR}GetPendingSettings`]: "viewer",
  [`${TR}GetStatus`]: "viewer",
  [`${TR}IsLocked`]: "viewer",
  [`${TR}WatchSignals`]: "viewer",
  // Waiting for a task's outcome changes nothing.
  [`${TR}JoinTask`]: "viewer",
  [`${MON}GetStats`]: "viewer",
  [`${MON}WatchStats`]: "viewer",
  [`${MON}FindProcesses`]: "viewer",
  [`${MON}ListZombies`]: "viewer",
  // operator: start, stop, signal, stdin, tasks, locks
  [`${PM}StartProcess`]: "operator",
  [`${PM}StopProcess`]: "operator",
  [`${PM}RestartProcess`]: "operator",
  [`${PM}SignalProcess`]: "operator",
  [`${PM}StartAll`]: "operator",
  [`${PM}StopAll`]: "operator",
  [`${PM}WriteStdin`]: "operator",
  [`${PM}CloseStdin`]: "operator",
  [`${TR}StartTask`]: "operator",
  [`${TR}StopTask`]: "operator",
  [`${TR}RemoveTask`]: "operator",
  [`${TR}SetSettings`]: "operator",
  [`${TR}CallMethod`]: "operator",
  [`${TR}Lock`]: "operator",
  [`${TR}Unlock`]: "operator",
  [`${TR}ForceUnlock`]: "operator",
  [`${MON}ReportProgress`]: "operator",
  // admin: what changes the configured set, runs arbitrary commands, or ends the daemon
  [`${PM}Shutdown`]: "admin",
  [`${PM}ApplyConfig`]: "admin",
  [`${PM}ReloadConfig`]: "admin",
  [`${PM}CreateProgram`]: "admin",
  [`${PM}DeleteProgram`]: "admin",
  // The built-in exec task type runs any command given in the request, as CreateProgram does.
  [`${TR}CreateTask`]: "admin",
  // Runs any command given in the request.
  [`${MON}RunMonitored`]: "admin",
  // generic tooling: health is open; reflection shows the API to anyone allowed to read
  "/grpc.health.v1.Health/Check": "open",
  "/grpc.health.v1.Health/Watch": "open",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": "viewer",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": "viewer",
};

/** The least role a method needs; a method missing from the table (a bug) needs admin. */
export function requirementOf(methodPath: string): Requirement {
  return METHOD_ROLES[methodPath] ?? "admin";
}
