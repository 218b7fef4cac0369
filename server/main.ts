// `corral server`: loads the config, starts the ProcessManager and the gRPC endpoints, and on
// SIGTERM/SIGINT/Shutdown stops every program before exiting. startDaemon is the same, in-process.
import { mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultHome, socketPath as socketPathOf } from "./home.js";
import { ConfigError, builtinExampleConfig, configReader, loadConfigFileIsolated, type CorralConfig } from "./config/index.js";
import { Metrics } from "./metrics/metrics.js";
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
import { HomeLockedError, lockHome } from "./home-lock.js";
import { LOG_FORMATS, logEvents, type LogFormat } from "./daemon-log.js";
import { AmbiguousHostError } from "./config/host-identity.js";
import { watchMaxMemory } from "./memory-restart.js";

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
  /** "http://127.0.0.1:PORT/metrics" when metrics.listen is configured. */
  metricsUrl?: string;
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
  // Metrics exist only where something scrapes them: no collector, timer or middleware otherwise.
  const metrics = options.config.metrics
    ? new Metrics({
        programs: () => manager.list(),
        runs: runLookupOf(manager),
        tasks: { states: TASK_STATES, list: () => tasks.list(), signalsPublished: () => tasks.bus.lastSeq },
        version: await packageVersion(),
        runtimeMetrics: true,
      })
    : undefined;
  const stopCountingEvents = new AbortController();
  if (metrics) void countEvents(manager, metrics, stopCountingEvents.signal);
  // Restarts runs over their program's max_memory; no timer while none has one (memory-restart.ts).
  void watchMaxMemory(manager, stopCountingEvents.signal);
  let metricsEndpoint: MetricsEndpoint | undefined;

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
        stopCountingEvents.abort();
        metrics?.close();
        signalSeqs.close();
        await eventLog?.stop();
        // Last: everything is saved, so the next daemon may read the home.
        releaseLock();
        markClosed();
      }
    })());

  const rpc = await startRpcServer({
    manager,
    taskRunner: tasks,
    monitor,
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
    if (options.config.metrics && metrics) metricsEndpoint = await startMetricsEndpoint(options.config.metrics.listen, metrics);
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
    closed,
    close,
  };
}

const USAGE = `usage: corral server [--config FILE] [--home DIR] [--listen HOST:PORT]... [--insecure] [--log-format text|json]

  --config FILE       the YAML config (default: a built-in example)
  --home DIR          state directory: socket, logs, state (default: $CORRAL_HOME or ~/.corral)
  --listen HOST:PORT  a TCP listener, repeatable; replaces server.listen of the config. Beyond
                      loopback it needs server.tls and server.auth in the config, or --insecure
  --insecure          allow TCP listeners beyond loopback without TLS or authentication (logs a
                      warning; anyone who reaches the port controls this host's processes)
  --keep-processes    on SIGTERM/SIGINT leave the programs running (for an upgrade): the next
                      daemon on the same home re-adopts them
  --host-name NAME    this daemon's host name (default: server.host_name, else the hosts entry
                      whose address is this machine, else the machine's); programs whose host
                      is another name are listed as remote, never started. The daemon also
                      listens on its own hosts entry's TCP address.
  --log-format FMT    how the daemon logs every state change, exit, FATAL and config change to
                      stderr, one line each: text (default) or json

  SIGTERM/SIGINT stop the programs and the daemon; SIGHUP re-reads --config and applies it, like
  corral reload (ignored, and logged, without --config).`;

/** `corral server ARGS`: runs the daemon until it is stopped, then exits the process (0 when clean). */
export async function runServer(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        home: { type: "string" },
        listen: { type: "string", multiple: true },
        "keep-processes": { type: "boolean" },
        insecure: { type: "boolean" },
        "host-name": { type: "string" },
        "log-format": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`corral server: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const home = args.home ? resolve(args.home) : defaultHome();
  const logFormat = args["log-format"] ?? "text";
  if (!isLogFormat(logFormat)) {
    console.error(`corral server: --log-format ${JSON.stringify(logFormat)}: must be one of ${LOG_FORMATS.join(", ")}\n${USAGE}`);
    process.exit(2);
  }

  // Installed before anything is spawned, so a signal during startup still stops children.
  let stopRequested: string | undefined;
  let keepOnStop = false;
  let daemon: Daemon | undefined;
  const requestStop = (why: string, keepProcesses = args["keep-processes"] === true) => {
    if (stopRequested) {
      // Leaving now would orphan the programs; the stop sequence has its own timeouts.
      console.error(`corral: ${why} while shutting down; still stopping programs`);
      return;
    }
    stopRequested = why;
    keepOnStop = keepProcesses;
    console.error(`corral: ${why}; ${keepProcesses ? "leaving programs running for the next daemon" : "stopping programs"}`);
    // Before startDaemon has returned, the stop happens right after it (see below).
    void daemon?.close({ keepProcesses });
  };
  process.on("SIGTERM", () => requestStop("SIGTERM received"));
  process.on("SIGINT", () => requestStop("SIGINT received"));
  // supervisord's convention, and closing the terminal of a foreground daemon must not kill it.
  let reloading: Promise<void> | undefined;
  process.on("SIGHUP", () => {
    // A journal event (so clients see it too), which the event log writes to stderr.
    const say = (message: string) => {
      if (daemon) daemon.manager.journal.append("", 0, { kind: "server", message });
      else console.error(`corral: ${message}`);
    };
    if (!daemon || stopRequested) return say(`SIGHUP received ${daemon ? "while shutting down" : "during start-up"}: ignored`);
    if (!args.config) return say("SIGHUP received: no --config file (built-in example): nothing to reload, ignored");
    if (reloading) return say("SIGHUP received while a reload is in progress: ignored (send it again once it is done)");
    const running = daemon;
    const path = resolve(args.config);
    say(`SIGHUP received: reloading ${path}`);
    reloading = (async () => {
      try {
        // The same path as `corral reload` (ReloadConfig): the file the daemon was started with.
        const applied = await running.manager.reloadConfig();
        const list = (names: string[]) => (names.length > 0 ? names.join(", ") : "-");
        say(
          `reloaded ${path}: added ${list(applied.added)}; changed ${list(applied.changed)}; removed ${list(applied.removed)}; restarted ${list(applied.restarted)}`,
        );
      } catch (error) {
        say(`reload of ${path} on SIGHUP failed, the running config is unchanged: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        reloading = undefined;
      }
    })();
  });

  try {
    const config = args.config ? await loadConfigFileIsolated(args.config) : builtinExampleConfig(home);
    daemon = await startDaemon({
      home,
      config,
      logFormat,
      tcpListen: args.listen,
      insecure: args.insecure === true ? true : undefined,
      hostName: args["host-name"] || undefined,
      onShutdownRequest: (request) => requestStop("Shutdown requested", request.keepProcesses),
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AmbiguousHostError) {
      console.error(error.message);
      process.exit(2);
    }
    if (error instanceof HomeLockedError) {
      console.error(error.message);
      process.exit(1);
    }
    console.error(`corral server: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  console.log(`corral daemon listening on ${daemon.listen.join(", ")} (pid ${process.pid})`);
  if (daemon.hostNameWhy) console.log(`corral host name: ${daemon.hostName} (${daemon.hostNameWhy})`);
  if (daemon.metricsUrl) console.log(`corral metrics on ${daemon.metricsUrl}`);
  for (const problem of daemon.manager.persistence.problems) console.error(`corral: ${problem}`);
  if (stopRequested) void daemon.close({ keepProcesses: keepOnStop });

  try {
    await daemon.closed;
    await daemon.close(); // rethrows a failure of the stop sequence
  } catch (error) {
    console.error(`corral: shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  }
  console.error("corral: daemon stopped");
  process.exit(0);
}

let cachedVersion: string | undefined;
/** Feeds the journal's live events to the exit and restart counters until the daemon closes. */
async function countEvents(manager: ProcessManager, metrics: Metrics, signal: AbortSignal): Promise<void> {
  const hostOf = (program: string) => manager.list().find((p) => p.name === program)?.host ?? "";
  try {
    for await (const item of manager.journal.watch({ liveOnly: true, signal })) if ("event" in item) metrics.observeEvent(item.event, hostOf);
  } catch (error) {
    if (!signal.aborted) process.stderr.write(`corral: metrics stopped counting events: ${error instanceof Error ? error.message : String(error)}\n`);
  }
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

function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}
