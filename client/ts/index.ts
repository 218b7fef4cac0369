// The typed corral client: connect() gives one nice-grpc client per service, with streams as
// async iterables and cancellation through AbortSignal or a deadline.
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { createChannel, createClientFactory, type Channel, type Client } from "nice-grpc";
import { deadlineMiddleware, type DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import { ProcessMonitorDefinition } from "../../gen/ts/corral/v1/process_monitor_nice_grpc.js";
import { TaskRunnerDefinition } from "../../gen/ts/corral/v1/task_runner_nice_grpc.js";
import { errorDetailsMiddleware } from "./error-details.js";
import { useFastStringDecoding } from "./text-decoding.js";
import { connectionDiagnosisMiddleware } from "./connection-problems.js";
import { bearerTokenMiddleware, readTokenFile, tlsChannel, type TlsClientOptions } from "./channel-credentials.js";

export * from "../../gen/ts/corral/v1/process_manager_pb.js";
export * from "../../gen/ts/corral/v1/process_monitor_pb.js";
export * from "../../gen/ts/corral/v1/task_runner_pb.js";
export * from "../../gen/ts/corral/v1/sequence_pb.js";
export { TaskFailedError, TaskHandle, TaskRefusedError, fromValue, toValue, type JsonValue, type RefusalReason } from "./tasks.js";
export {
  findProcesses,
  isProcessRunning,
  listProcesses,
  listZombies,
  processPids,
  statusOf,
  stopAll,
  type FindOptions,
  type HostProcess,
  type StopAllOptions,
} from "./processes.js";
export { ClientError, Status } from "nice-grpc";
export {
  CorralClientError,
  detailsOfStatus,
  errorDetails,
  isCorralError,
  ERROR_DOMAIN,
  STATUS_DETAILS_KEY,
  type BadRequest,
  type ErrorDetails,
  type ErrorInfo,
  type PreconditionFailure,
  type ResourceInfo,
  type RpcStatus,
} from "./error-details.js";
export type { TlsClientOptions } from "./channel-credentials.js";
export { diagnoseConnection, PROBE_TIMEOUT_MS, type ConnectionDiagnosis, type ConnectionProblem } from "./connection-problems.js";

/** The generated nice-grpc definitions (gen/ts/corral/v1/*_nice_grpc.ts), under their usual names. */
export const processManagerDefinition = ProcessManagerDefinition;
export type ProcessManagerClient = Client<typeof processManagerDefinition, DeadlineOptions>;
export const processMonitorDefinition = ProcessMonitorDefinition;
export type ProcessMonitorClient = Client<typeof processMonitorDefinition, DeadlineOptions>;
export const taskRunnerDefinition = TaskRunnerDefinition;
export type TaskRunnerClient = Client<typeof taskRunnerDefinition, DeadlineOptions>;

/** The daemon's home directory: $CORRAL_HOME, else ~/.corral. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.CORRAL_HOME;
  return home ? resolve(home) : join(homedir(), ".corral");
}

/** The default socket path of a daemon home. */
export function socketPath(home: string): string {
  return join(home, "corral.sock");
}

/**
 * Turns a user-given address into a channel target. Accepts "unix:/abs/path",
 * "unix:///abs/path", a bare path to a socket, or "host:port".
 * Defaults: $CORRAL_ADDRESS, then the socket in the default home.
 */
export function resolveAddress(address?: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = address || env.CORRAL_ADDRESS || socketPath(defaultHome(env));
  if (given.startsWith("unix://")) return `unix:///${given.slice("unix://".length).replace(/^\/+/, "")}`;
  if (given.startsWith("unix:")) return `unix:///${resolve(given.slice("unix:".length)).replace(/^\/+/, "")}`;
  if (given.startsWith("/") || given.startsWith(".") || isAbsolute(given) || given.endsWith(".sock")) {
    // nice-grpc 2.1 appends ":80" to "unix:/path"; the triple-slash form is left alone.
    return `unix:///${resolve(given).replace(/^\/+/, "")}`;
  }
  return given;
}

export interface ConnectOptions {
  /** See resolveAddress. */
  address?: string;
  /** Connect over TLS (TCP addresses only). */
  tls?: TlsClientOptions;
  /** Bearer token sent with every call. */
  token?: string;
  /** File holding the bearer token (first line); used when token is not given. */
  tokenFile?: string;
}

export interface CorralClient {
  readonly address: string;
  readonly processManager: ProcessManagerClient;
  readonly processMonitor: ProcessMonitorClient;
  readonly taskRunner: TaskRunnerClient;
  close(): void;
}

/**
 * Connects to a corral daemon. The connection is lazy: errors surface on the first call; only
 * unreadable TLS or token files throw here.
 */
export function connect(options: ConnectOptions = {}): CorralClient {
  useFastStringDecoding();
  const address = resolveAddress(options.address);
  if (options.tls && address.startsWith("unix:")) throw new Error(`TLS is for TCP addresses, not the Unix socket ${address}`);
  const secure = options.tls ? tlsChannel(options.tls) : undefined;
  const channel: Channel = createChannel(address, secure?.credentials, secure?.options);
  const token = options.token ?? (options.tokenFile !== undefined ? readTokenFile(options.tokenFile) : undefined);
  // Outermost: the error middlewares see every failure, deadline ones included; an unreachable
  // daemon is probed and named (connection-problems.ts).
  const base = createClientFactory().use(connectionDiagnosisMiddleware(address, options.tls)).use(errorDetailsMiddleware).use(deadlineMiddleware);
  const factory = token !== undefined ? base.use(bearerTokenMiddleware(token)) : base;
  return {
    address,
    processManager: factory.create(processManagerDefinition, channel),
    processMonitor: factory.create(processMonitorDefinition, channel),
    taskRunner: factory.create(taskRunnerDefinition, channel),
    close: () => channel.close(),
  };
}
