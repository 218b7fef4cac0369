// The page's connection to the daemon: the bearer token (entered once, kept for the tab in
// sessionStorage), who the daemon says we are (/session), and Connect clients of the same three
// services the gRPC clients use, for this host or (read-only) another host of the fleet.
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ProcessManager } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { ProcessMonitor } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { TaskRunner } from "../../gen/ts/corral/v1/task_runner_pb.js";

const TOKEN_KEY = "corral.token";

export type Role = "viewer" | "operator" | "admin";

export interface Session {
  identity: string;
  role: Role;
  host: string;
  hosts: string[];
  authRequired: boolean;
}

export function savedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** Who the daemon takes us for; an Error with the daemon's reason when it refuses the token (or needs one). */
export async function fetchSession(): Promise<Session> {
  const token = savedToken();
  const response = await fetch("/session", { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: "no-store" });
  const body = (await response.json()) as Session & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

/** Operators and admins may start, stop, restart, signal and edit task settings. */
export function mayOperate(role: Role): boolean {
  return role === "operator" || role === "admin";
}

const withToken: Interceptor = (next) => async (request) => {
  const token = savedToken();
  if (token) request.header.set("authorization", `Bearer ${token}`);
  return next(request);
};

export interface Api {
  host: string;
  processManager: Client<typeof ProcessManager>;
  processMonitor: Client<typeof ProcessMonitor>;
  taskRunner: Client<typeof TaskRunner>;
}

/** Clients for this daemon (host === session.host) or for another host of its config, through /hosts/NAME. */
export function apiFor(host: string, session: Session): Api {
  const prefix = host === session.host ? "" : `/hosts/${encodeURIComponent(host)}`;
  const transport = createConnectTransport({ baseUrl: `${location.origin}${prefix}`, useBinaryFormat: true, interceptors: [withToken] });
  return {
    host,
    processManager: createClient(ProcessManager, transport),
    processMonitor: createClient(ProcessMonitor, transport),
    taskRunner: createClient(TaskRunner, transport),
  };
}
