// Starts the daemon's gRPC endpoints: the Unix socket (0600) and optional TCP listeners (TLS
// when server.tls is set), each a nice-grpc Server (one address per Server) with the same services.
import { chmod, lstat, rm } from "node:fs/promises";
import { join } from "node:path";
import { createConnection } from "node:net";
import { composeServerMiddleware, createServer, type Server, type ServerMiddleware } from "nice-grpc";
import type { ServerCredentials } from "@grpc/grpc-js";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import { ProcessMonitorDefinition } from "../../gen/ts/corral/v1/process_monitor_nice_grpc.js";
import { TaskRunnerDefinition } from "../../gen/ts/corral/v1/task_runner_nice_grpc.js";
import { ProcessManager } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { ProcessMonitor } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { TaskRunner as TaskRunnerService } from "../../gen/ts/corral/v1/task_runner_pb.js";
import type { TaskRunner } from "../core/task/runner.js";
import { BEYOND_LOOPBACK_RULE, hasAuthMethods, isLoopbackAddress, type AuthConfig, type TlsServerConfig } from "../core/access.js";
import { InvalidArgumentError } from "../core/errors.js";
import { openAuditLog } from "./audit-log.js";
import { authMiddleware } from "./auth.middleware.js";
import { createAuthenticator, type Authenticator } from "./authenticator.js";
import type { BridgedService } from "./connect-bridge.js";
import { errorMiddleware } from "./errors.js";
import { peerCertificateInterceptor } from "./peer-certificate.interceptor.js";
import { callMetricsMiddleware, type CallObserver } from "./metrics.middleware.js";
import { createProcessManagerService, type ProcessManagerCore, type ServerInfo } from "./process-manager.service.js";
import { createReflection, ServerReflectionV1AlphaService } from "./reflection.js";
import { createProcessMonitorService, type ProcessMonitorCore } from "./process-monitor.service.js";
import { createTaskRunnerService } from "./task-runner.service.js";
import { createTerminator } from "./terminator.js";
import { DEFAULT_STREAM_LIMITS } from "../core/limits.js";
import { connectionIdInterceptor, createStreamLimiter, type StreamLimits } from "./stream-limit.js";
import { serverCredentials } from "./tls-credentials.js";
import { withSharedEncoding } from "./shared-encoding.js";
import { withKeptSpecEncoding } from "./spec-encoding.js";
import { withStatsEncoding } from "./stats-encoding.js";
import { useFastStringEncoding } from "./text-encoding.js";

const SERVICE_NAME = "corral.v1.ProcessManager";
const TASK_RUNNER_SERVICE_NAME = "corral.v1.TaskRunner";
const PROCESS_MONITOR_SERVICE_NAME = "corral.v1.ProcessMonitor";
/** How long close() lets unary calls in flight finish before cutting connections. */
const GRACEFUL_CLOSE_MS = 5_000;

export interface RpcServerOptions {
  manager: ProcessManagerCore;
  /** The TaskRunner core; without it the TaskRunner service is not served. */
  taskRunner?: TaskRunner;
  /** The ProcessMonitor core; without it the ProcessMonitor service is not served. */
  monitor?: ProcessMonitorCore;
  /** Told the method, status code and duration of every call (for metrics). */
  onCall?: CallObserver;
  /** Runs outermost around every call, gRPC and Connect alike (OpenTelemetry spans). */
  tracing?: ServerMiddleware;
  home: string;
  socketPath: string;
  /** Extra TCP listeners, "host:port"; beyond loopback only with TLS and auth, or insecure. Port 0 picks one. */
  tcpListen: string[];
  /** TLS for every TCP listener (the Unix socket stays plain: its 0600 mode is its protection). */
  tls?: TlsServerConfig;
  /** Who may call over TCP (authenticator.ts); the roles per method are in method-roles.ts. */
  auth?: AuthConfig;
  /** server.auth: none: every TCP caller is admin (otherwise, without auth, they are viewers); warned about at start. */
  authNone?: boolean;
  /** Explicitly allows TCP beyond loopback without TLS/auth (warned about at start). */
  insecure?: boolean;
  /** The JSONL audit log (default: audit.log in the home). */
  auditLog?: string;
  /** Caps on concurrent server streams (default: DEFAULT_STREAM_LIMITS). */
  streams?: StreamLimits;
  /** Where warnings go (default: stderr). */
  warn?: (line: string) => void;
  /** Facts for GetServerInfo; listen is filled in here with the addresses actually bound. */
  info: Omit<ServerInfo, "listen">;
  /** Called after a Shutdown RPC was answered. */
  onShutdown: (options: { keepProcesses: boolean }) => void;
}

export interface RpcServer {
  /** Bound addresses: "unix:/path" first, then "host:port" with the real port. */
  readonly listen: string[];
  /** Refuses new calls and connections (health goes NOT_SERVING); calls in flight go on. */
  stopAccepting(): void;
  /** Ends streams in flight (UNAVAILABLE), waits briefly for unary calls, removes the socket. */
  close(): Promise<void>;
  /** What a TCP caller reaches, for other transports of the same calls (the web dashboard's Connect endpoint). */
  readonly network: NetworkCallLayer;
}

/**
 * The services and the middleware chain of a TCP listener, shared: a call that arrives another
 * way (Connect over HTTP) runs through this same chain into these same implementations.
 */
export interface NetworkCallLayer {
  services: BridgedService[];
  /** Shutdown terminator, call metrics (when configured), auth and audit, stream limits, error mapping: composed, in that order. */
  middleware: ServerMiddleware;
  /** server.auth's authenticator (also for the web page's "who am I"). */
  authenticator: Authenticator;
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  useFastStringEncoding();
  const tcpAddresses = options.tcpListen.map((address) => parseListenAddress(address));
  checkListenerSecurity(tcpAddresses, options);
  // Read before anything is bound, so a bad PEM path fails the start cleanly.
  const tcpCredentials: ServerCredentials | undefined = options.tls && tcpAddresses.length > 0 ? await serverCredentials(options.tls) : undefined;
  const authenticator = await createAuthenticator(options.auth, options.warn, options.authNone ? "admin" : "viewer");
  if (options.authNone) {
    const where = tcpAddresses.length > 0 ? tcpAddresses.map((listener) => listener.address).join(", ") : "TCP listeners (none now)";
    (options.warn ?? ((line: string) => console.error(line)))(
      `corral: WARNING: server.auth: none: every caller of ${where} is admin (may run any command as this daemon's user); configure tokens or client certificates instead`,
    );
  }
  await clearStaleSocket(options.socketPath);

  const listen: string[] = [];
  const health = HealthState();
  const terminator = createTerminator();
  const processManager = createProcessManagerService({
    manager: options.manager,
    info: () => ({ ...options.info, listen: [...listen] }),
    onShutdown: options.onShutdown,
  });
  const taskRunner = options.taskRunner ? createTaskRunnerService(options.taskRunner) : undefined;
  const processMonitor = options.monitor ? createProcessMonitorService(options.monitor) : undefined;
  // What reflection lists and health reports on: the services served, plus "" (the whole server).
  const serviceNames = [SERVICE_NAME, ...(taskRunner ? [TASK_RUNNER_SERVICE_NAME] : []), ...(processMonitor ? [PROCESS_MONITOR_SERVICE_NAME] : [])];
  const setHealth = (status: "healthy" | "unhealthy") => {
    for (const name of ["", ...serviceNames]) health.setStatus(status, name);
  };
  // Health and reflection (v1 and v1alpha) are listed too: generic clients discover them like ours.
  const reflection = createReflection([...serviceNames, "grpc.health.v1.Health"]);
  const healthService = HealthServiceImpl(health);

  const audit = openAuditLog(options.auditLog ?? join(options.home, "audit.log"));
  // One limiter for every listener: max_total counts the streams of all of them.
  const streamLimiter = createStreamLimiter(options.streams ?? DEFAULT_STREAM_LIMITS);
  // The terminator is outermost so that errors are already mapped when it sees them. Streams
  // are counted after auth, so a caller refused there takes no slot.
  const chain = (auth: Authenticator | undefined): ServerMiddleware =>
    [
      ...(options.onCall ? [callMetricsMiddleware(options.onCall)] : []),
      authMiddleware({ authenticator: auth, audit }),
      streamLimiter.middleware,
      errorMiddleware as ServerMiddleware,
    ].reduce<ServerMiddleware>(
      (outer, inner) => composeServerMiddleware(outer, inner),
      options.tracing ? composeServerMiddleware(options.tracing, terminator.middleware) : terminator.middleware,
    );
  const tcpChain = chain(authenticator);
  const unixChain = chain(undefined);
  const servers: Server[] = [];
  const processManagerDefinition = withSharedEncoding(withKeptSpecEncoding(ProcessManagerDefinition, ProcessManager));
  const processMonitorDefinition = withStatsEncoding(ProcessMonitorDefinition);
  const newServer = (transport: "unix" | "tcp"): Server => {
    // Only TCP callers are authenticated; the interceptor exposes their verified certificate.
    const tcp = transport === "tcp";
    // The connection id interceptor comes first: it needs grpc-js's base call (stream-limit.ts).
    const interceptors = tcp ? [connectionIdInterceptor, peerCertificateInterceptor] : [connectionIdInterceptor];
    const server = createServer({ interceptors }).use(tcp ? tcpChain : unixChain);
    server.add(processManagerDefinition, processManager);
    if (taskRunner) server.add(TaskRunnerDefinition, taskRunner);
    if (processMonitor) server.add(processMonitorDefinition, processMonitor);
    server.add(HealthDefinition, healthService);
    server.add(ServerReflectionService, reflection);
    server.add(ServerReflectionV1AlphaService, reflection);
    servers.push(server);
    return server;
  };

  try {
    await listenOnUnixSocket(newServer("unix"), options.socketPath);
    listen.push(`unix:${options.socketPath}`);
    for (const { host, port } of tcpAddresses) {
      const bound = await newServer("tcp").listen(`${host}:${port}`, tcpCredentials);
      listen.push(`${host}:${bound}`);
    }
  } catch (error) {
    for (const server of servers) server.forceShutdown();
    await rm(options.socketPath, { force: true });
    await audit.close();
    throw error;
  }
  setHealth("healthy");

  let shutdowns: Promise<void>[] | undefined;
  const stopAccepting = () => {
    if (shutdowns) return;
    setHealth("unhealthy");
    shutdowns = servers.map((server) => server.shutdown());
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      stopAccepting();
      terminator.terminate();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), GRACEFUL_CLOSE_MS)));
      const outcome = await Promise.race([Promise.allSettled(shutdowns ?? []), timedOut]);
      clearTimeout(timer);
      if (outcome === "timeout") for (const server of servers) server.forceShutdown();
      await rm(options.socketPath, { force: true });
      await audit.close();
    })());
  const network: NetworkCallLayer = {
    services: [
      { service: ProcessManager, definition: ProcessManagerDefinition, implementation: processManager },
      ...(taskRunner ? [{ service: TaskRunnerService, definition: TaskRunnerDefinition, implementation: taskRunner }] : []),
      ...(processMonitor ? [{ service: ProcessMonitor, definition: ProcessMonitorDefinition, implementation: processMonitor }] : []),
    ],
    middleware: tcpChain,
    authenticator,
  };
  return { listen, stopAccepting, close, network };
}

/** "host:port" for a TCP listener; `loopback` says whether it stays on this machine. */
export function parseListenAddress(address: string, field = "server.listen"): { host: string; port: number; loopback: boolean; address: string } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const refuse = (rule: string) => new InvalidArgumentError(field, address, rule);
  if (!match) throw refuse("must be HOST:PORT (for IPv6: [::1]:PORT)");
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (port > 65535) throw refuse("port must be at most 65535");
  return { host: host.includes(":") ? `[${host}]` : host, port, loopback: isLoopbackAddress(address), address };
}

/**
 * A listener beyond loopback exposes process control to the network: it needs TLS and some
 * authentication (tokens or client certificates), unless the operator said --insecure.
 * Checked before anything is bound. Also applies to --listen, which bypasses the config check.
 */
export function checkListenerSecurity(
  addresses: { loopback: boolean; address: string }[],
  options: { tls?: TlsServerConfig; auth?: AuthConfig; authNone?: boolean; insecure?: boolean; warn?: (line: string) => void },
  field = "server.listen",
): void {
  const wide = addresses.filter((listener) => !listener.loopback);
  if (wide.length === 0) return;
  const hasAuth = hasAuthMethods(options.auth);
  if (options.tls !== undefined && hasAuth) return;
  if (!options.insecure) throw new InvalidArgumentError(field, wide[0]!.address, BEYOND_LOOPBACK_RULE);
  const missing = [options.tls ? undefined : "TLS", hasAuth ? undefined : "authentication"].filter(Boolean).join(" or ");
  const warn = options.warn ?? ((line: string) => console.error(line));
  const risk = hasAuth
    ? "tokens and calls cross the network unencrypted"
    : options.authNone
      ? "anyone who can reach it can control this host's processes (server.auth: none)"
      : "anyone who can reach it can read this host's processes and logs";
  for (const listener of wide) {
    warn(`corral: WARNING: --insecure: listening on ${listener.address} beyond loopback without ${missing}; ${risk}`);
  }
}

/**
 * Removes a socket file left by a daemon that died, but refuses to take over a socket another
 * daemon still answers on (two daemons on one home would both own the same programs).
 */
async function clearStaleSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (stat === undefined) return;
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket; move it away to start the daemon`);
  const answered = await new Promise<boolean>((resolve) => {
    const socket = createConnection(path);
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
  if (answered) throw new Error(`another corral daemon is already listening on ${path}; stop it first (corral shutdown)`);
  await rm(path, { force: true });
}

async function listenOnUnixSocket(server: Server, path: string): Promise<void> {
  // The umask makes the socket 0600 from its creation, not only after the chmod below.
  const previousUmask = process.umask(0o177);
  try {
    await server.listen(`unix:${path}`);
  } finally {
    process.umask(previousUmask);
  }
  await chmod(path, 0o600);
}
