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
import { SERVER_DETAILS, SERVER_OPTIONS, type ServerArgs } from "./options.js";

/** `corral server`'s usage, from the one option table (options.ts). */
function usage(): string {
  const rows = Object.entries(SERVER_OPTIONS).map(([name, spec]) => {
    const value = "value" in spec ? ` ${spec.value}` : "";
    const repeat = "multiple" in spec ? "..." : "";
    return { left: `--${name}${value}`, synopsis: `[--${name}${value}]${repeat}`, description: spec.description };
  });
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  return [
    `usage: corral server ${rows.map((row) => row.synopsis).join(" ")}`,
    "",
    ...rows.map((row) => `  ${row.left.padEnd(width)}${row.description}`),
    "",
    `  ${SERVER_DETAILS}`,
  ].join("\n");
}

/** The daemon's own entry (daemon-entry.ts): `ARGS` parsed by the one option table, then serve(). */
export async function runServer(argv: string[]): Promise<void> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { ...SERVER_OPTIONS, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`corral server: ${error instanceof Error ? error.message : String(error)}\n${usage()}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(usage());
    process.exit(0);
  }
  await serve(args);
}

/** `corral server` with its options parsed: runs the daemon until it is stopped, then exits the process (0 when clean). */
export async function serve(args: ServerArgs): Promise<void> {
  const home = args.home ? resolve(args.home) : defaultHome();
  const logFormat = args["log-format"] ?? "text";
  if (!isLogFormat(logFormat)) {
    console.error(`corral server: --log-format ${JSON.stringify(logFormat)}: must be one of ${LOG_FORMATS.join(", ")}\n${usage()}`);
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
  // The socket answers before startDaemon returns (autostart runs meanwhile): a SIGHUP then is
  // not dropped but done once the daemon is up (the file may have changed since it was read).
  let reloadWhenStarted = false;
  const onSighup = () => {
    // A journal event (so clients see it too), which the event log writes to stderr.
    const say = (message: string) => {
      if (daemon) daemon.manager.journal.append("", 0, { kind: "server", message });
      else console.error(`corral: ${message}`);
    };
    if (stopRequested) return say("SIGHUP received while shutting down: ignored");
    if (!args.config) return say("SIGHUP received: no --config file (built-in example): nothing to reload, ignored");
    if (!daemon) {
      reloadWhenStarted = true;
      return say("SIGHUP received during start-up: reloading once started");
    }
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
  };
  process.on("SIGHUP", onSighup);

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
  else if (reloadWhenStarted) onSighup();

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
