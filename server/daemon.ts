// One daemon in this process: the home locked, the config's programs under a ProcessManager, the
// tasks and the process monitor, the gRPC endpoints and /metrics, autostart; and the close that
// stops them in order (programs stopped or left for the next daemon, the lock released last).
import { failpointDelay } from "./core/failpoints.js";
import { startSpawner } from "./core/os/spawner.js";
import { mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { socketPath as socketPathOf } from "./home.js";
import { configReader, type CorralConfig } from "./config/index.js";
import type { Metrics } from "./metrics/metrics.js";
import { ProcessMonitor } from "./core/monitor/monitor.js";
import { runLookupOf } from "./core/monitor/runs.js";
import { ProcessManager } from "./core/process/manager.js";
import { EventJournal } from "./core/process/journal.js";
import { SeqFile } from "./core/events/seq-file.js";
import { createTaskRunner, TASK_STATES, type TaskRunner } from "./core/task/index.js";
import { TaskPersistence } from "./core/task/persistence.js";
import { startMetricsEndpoint, type MetricsEndpoint } from "./metrics/endpoint.js";
import { startRpcServer } from "./rpc/server.js";
import { resolveOwnHost } from "./own-host.js";
import { lockHome } from "./home-lock.js";
import { logEvents, type LogFormat } from "./daemon-log.js";
import { watchMaxMemory } from "./memory-restart.js";
import { collectAfterBursts } from "./heap-release.js";

export interface StartDaemonOptions {
  home: string;
  config: CorralConfig;
  /** TCP listeners; default: config.server.listen. */
  tcpListen?: string[];
  /** Allows TCP beyond loopback without TLS/auth (`--insecure`); default: config server.insecure. */
  insecure?: boolean;
  /** This daemon's host name (programs of another `host` are remote); default: config server.host_name, else os.hostname(). */
  hostName?: string;
  /** Log every event of this daemon to stderr, one line each, in this format; default: no log. */
  logFormat?: LogFormat;
  /** What a Shutdown RPC does; default: close() (the caller watches `closed`). */
  onShutdownRequest?: (options: { keepProcesses: boolean }) => void;
}

export interface Daemon {
  home: string;
  socketPath: string;
  /** "unix:/path" and any "host:port" actually bound. */
  listen: string[];
  /** This daemon's host name, and how it was found ("--host-name", or which hosts entry address is this machine). */
  hostName: string;
  hostNameWhy?: string;
  manager: ProcessManager;
  /** The background tasks (types from config tasks.modules plus the built-in ones). */
  tasks: TaskRunner;
  /** "http(s)://127.0.0.1:PORT/metrics" when metrics.listen is configured. */
  metricsUrl?: string;
  /** "http(s)://127.0.0.1:PORT/" when web.listen is configured (the dashboard). */
  webUrl?: string;
  /** Settles when close() has finished, whoever started it (signal, Shutdown RPC, caller). */
  closed: Promise<void>;
  /**
   * Stops accepting calls, stops every program (two-stage; with keepProcesses leaves them running
   * for the next daemon to adopt), closes the servers. Idempotent: the first call's options win.
   */
  close(options?: { keepProcesses?: boolean }): Promise<void>;
}

/** Starts a daemon in this process: the programs' manager, the socket and TCP servers, autostart. */
export async function startDaemon(options: StartDaemonOptions): Promise<Daemon> {
  const home = resolve(options.home);
  await mkdir(home, { recursive: true, mode: 0o700 });
  // Before anything of the home is read: a second daemon must change nothing (home-lock.ts).
  const lock = lockHome(home);
  try {
    return await startLocked(home, options, lock.release);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function startLocked(home: string, options: StartDaemonOptions, releaseLock: () => void): Promise<Daemon> {
  // perl starts while the rest does, so that autostart's runs are already forked by it.
  startSpawner();
  await mkdir(resolve(home, "logs"), { recursive: true, mode: 0o700 });
  const socketPath = socketPathOf(home);
  const ownHost = await resolveOwnHost(options.config, options.hostName, options.tcpListen ?? options.config.server.listen);
  const journal = new EventJournal();
  // Subscribed before the manager restores anything, so the log has all of this daemon's events.
  const eventLog = options.logFormat ? logEvents(journal, options.logFormat) : undefined;
  const manager = new ProcessManager({
    home,
    programs: options.config.programs,
    journal,
    hostName: ownHost.hostName,
    logMaxTotalBytes: options.config.server.logs.maxTotalBytes,
    stopOrder: options.config.server.stopOrder,
    cgroupRoot: options.config.server.cgroupRoot,
    liveConfig: { configPath: options.config.path, allowAdhoc: options.config.server.allowAdhoc, reader: configReader },
  });
  const tasks = await createTaskRunner(options.config.tasks.modules);
  // Before anything publishes: signal seqs continue after the previous daemon's (issue: resume).
  const signalSeqs = new SeqFile(resolve(home, "state", "signals.seq"));
  tasks.bus.persistSeqs(signalSeqs);
  // Tasks created with restore come back before any client can act on them (persistence.ts).
  const taskPersistence = new TaskPersistence(resolve(home, "state"), tasks, manager.journal);
  taskPersistence.restore();
  const monitor = new ProcessMonitor({ runs: runLookupOf(manager), home });
  // Metrics exist only where something scrapes them: no collector, timer or middleware otherwise,
  // and prom-client (with the OpenTelemetry API it loads, ~80 modules) is not even loaded.
  const metrics = options.config.metrics
    ? new (await import("./metrics/metrics.js")).Metrics({
        programs: () => manager.list(),
        runs: runLookupOf(manager),
        tasks: { states: TASK_STATES, list: () => tasks.list(), signalsPublished: () => tasks.bus.lastSeq },
        version: await packageVersion(),
        runtimeMetrics: true,
      })
    : undefined;
  const stopCountingEvents = new AbortController();
  if (metrics) countEvents(manager, metrics, stopCountingEvents.signal);
  // Restarts runs over their program's max_memory; no timer while none has one (memory-restart.ts).
  watchMaxMemory(manager, stopCountingEvents.signal);
  // What a start-all or stop-all left in the heap is collected once it is over (heap-release.ts).
  collectAfterBursts(manager.journal, stopCountingEvents.signal);
  let metricsEndpoint: MetricsEndpoint | undefined;
  let webEndpoint: { url: string; close(): Promise<void> } | undefined;

  let closing: Promise<void> | undefined;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const close = (closeOptions: { keepProcesses?: boolean } = {}): Promise<void> =>
    (closing ??= (async () => {
      try {
        rpc.stopAccepting();
        taskPersistence.freeze();
        await Promise.all([manager.shutdown({ keepProcesses: closeOptions.keepProcesses }), tasks.shutdown(), monitor.shutdown()]);
      } finally {
        await rpc.close();
        await metricsEndpoint?.close();
        await webEndpoint?.close();
        await telemetry?.close();
        stopCountingEvents.abort();
        metrics?.close();
        signalSeqs.close();
        await eventLog?.stop();
        // Last: everything is saved, so the next daemon may read the home.
        releaseLock();
        markClosed();
      }
    })());

  // OpenTelemetry only where a collector is configured (lazy: no SDK loaded otherwise).
  const telemetry = options.config.telemetry
    ? (await import("./telemetry/telemetry.js")).startTelemetry(options.config.telemetry, {
        hostName: manager.hostName,
        version: await packageVersion(),
        watchEvents: (signal) => manager.journal.watch({ liveOnly: true, signal }),
        programs: () => manager.list(),
        runs: runLookupOf(manager),
      })
    : undefined;
  const rpc = await startRpcServer({
    manager,
    taskRunner: tasks,
    monitor,
    ...(telemetry?.middleware ? { tracing: telemetry.middleware } : {}),
    ...(metrics ? { onCall: { started: (m) => metrics.callStarted(m), handled: (m, code, seconds) => metrics.callHandled(m, code, seconds) } } : {}),
    home,
    socketPath,
    tcpListen: ownHost.listen,
    tls: options.config.server.tls,
    auth: options.config.server.auth,
    authNone: options.config.server.authNone === true,
    insecure: options.insecure ?? options.config.server.insecure === true,
    auditLog: options.config.server.auditLog,
    streams: options.config.server.streams,
    info: {
      version: await packageVersion(),
      home,
      configPath: options.config.path ?? "",
      startedAt: new Date(),
      allowAdhoc: options.config.server.allowAdhoc,
    },
    onShutdown: (request) => (options.onShutdownRequest ?? ((r: { keepProcesses: boolean }) => void close(r)))(request),
  });
  try {
    // The HTTP listeners follow the TCP listeners' rules and identify callers with the same authenticator.
    const security = {
      tls: options.config.server.tls,
      auth: options.config.server.auth,
      authNone: options.config.server.authNone === true,
      insecure: options.insecure ?? options.config.server.insecure === true,
      authenticator: rpc.network.authenticator,
    };
    if (options.config.metrics && metrics) metricsEndpoint = await startMetricsEndpoint(options.config.metrics.listen, metrics, security);
    if (options.config.web) {
      // Imported only when configured: a daemon without web.listen loads none of its modules.
      const { startWebServer } = await import("./web/web-server.js");
      webEndpoint = await startWebServer({
        listen: options.config.web.listen,
        ...security,
        network: rpc.network,
        hostName: manager.hostName,
        hosts: options.config.hosts,
      });
    }
    // The socket answers from here on while start-up goes on (a test of SIGHUP then holds it open).
    await failpointDelay("daemon-init-delay-ms");
    await manager.init();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    home,
    socketPath,
    listen: rpc.listen,
    hostName: manager.hostName,
    hostNameWhy: ownHost.why,
    manager,
    tasks,
    metricsUrl: metricsEndpoint?.url,
    webUrl: webEndpoint?.url,
    closed,
    close,
  };
}

let cachedVersion: string | undefined;
/** Feeds the journal's live events to the exit and restart counters until the daemon closes. */
function countEvents(manager: ProcessManager, metrics: Metrics, signal: AbortSignal): void {
  // Looked up by name: every program's snapshot per event made a stop-all of 500 quadratic with
  // metrics on (712 vs 329 ms).
  const hostOf = (program: string) => manager.hostOf(program);
  const unsubscribe = manager.journal.listen("metrics' event counts", (event) => metrics.observeEvent(event, hostOf));
  signal.addEventListener("abort", unsubscribe, { once: true });
}

/** The version in package.json, found by walking up from this file (src or dist layout). */
async function packageVersion(): Promise<string> {
  if (cachedVersion !== undefined) return cachedVersion;
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(await readFile(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "corral" && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      // not at this level
    }
  }
  return (cachedVersion = "0.0.0-unknown");
}
