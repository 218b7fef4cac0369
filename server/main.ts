// `corral server`: reads its arguments, loads the config, starts the daemon (daemon.ts), and on
// SIGTERM/SIGINT/Shutdown stops every program before exiting; SIGHUP reloads the config file.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultHome } from "./home.js";
import { ConfigError, builtinExampleConfig, loadConfigFileIsolated } from "./config/index.js";
import { AmbiguousHostError } from "./config/host-identity.js";
import { startDaemon, type Daemon } from "./daemon.js";
import { HomeLockedError } from "./home-lock.js";
import { LOG_FORMATS, type LogFormat } from "./daemon-log.js";

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
  if (daemon.webUrl) console.log(`corral web dashboard on ${daemon.webUrl}`);
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

function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}
