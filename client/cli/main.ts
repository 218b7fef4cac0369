// Entry point of the `corral` command (bin/corral.js calls main). It loads only what the
// subcommand needs: the server code for `corral server`, the gRPC client for the others.
import { readFileSync } from "node:fs";
import { noPositionals, parseCommand, parseDuration } from "./args.js";
import { connectOptionsOf, emptyConnectionFlags, takeConnectionOption, takeOption, type ConnectionFlags } from "./connection.js";
import { GLOBAL_OPTIONS, isCommand } from "./spec.js";
import { didYouMean } from "./suggest.js";
import { COMMAND_NAMES, UsageError, commandHelp, commandUsage, overview } from "./usage.js";

/** Exit code for a command line that cannot be understood. */
const USAGE_EXIT = 2;

interface GlobalOptions {
  rest: string[];
}

/** Multi-host mode: --config FILE, --host NAME, --local, --host-timeout DURATION. */
interface HostFlags {
  config?: string;
  host?: string;
  local: boolean;
  hostTimeout?: string;
}

const HOST_VALUE_OPTIONS = { "--config": "config", "--host": "host", "--host-timeout": "hostTimeout" } as const;

/** takeOption for the multi-host options (--local, --config, --host, --host-timeout). */
function takeHostOption(args: string[], index: number, flags: HostFlags, command?: string): number | undefined {
  return takeOption(args, index, { name: "--local", set: () => (flags.local = true) }, HOST_VALUE_OPTIONS, (key, value) => (flags[key] = value), command);
}

/** Takes connection and host options out of a command's arguments (they are valid anywhere before "--"). */
function extractGlobals(args: string[], connection: ConnectionFlags, hosts: HostFlags, command?: string): GlobalOptions {
  const options: GlobalOptions = { rest: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      options.rest.push(...args.slice(i));
      break;
    }
    const last = takeConnectionOption(args, i, connection, command) ?? takeHostOption(args, i, hosts, command);
    if (last !== undefined) i = last;
    else options.rest.push(arg);
  }
  return options;
}

/** -h or --help among a command's words (before "--", after which words are the program's). */
function wantsHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "-h" || arg === "--help") return true;
  }
  return false;
}

function globalOptionNames(): string[] {
  return Object.entries(GLOBAL_OPTIONS).flatMap(([name, option]) => [`--${name}`, ...("short" in option ? [`-${option.short}`] : [])]);
}

function version(): string {
  // dist/client/cli/main.js -> package.json three levels up (two when run from source).
  for (const relative of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "corral" && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}

async function runServer(args: string[]): Promise<number> {
  // Parsed once, by the table the daemon shares (server/options.ts), so a mistyped option gets "did you mean".
  const { values, positionals } = parseCommand("server", args);
  noPositionals(positionals, "server");
  // Loaded only here: the client commands never pay for the server's modules. The heap is tuned
  // for a daemon first (server/heap-tuning.ts).
  await import("../../server/heap-tuning.js");
  const { serve } = await import("../../server/main.js");
  await serve(values);
  return 0;
}

async function dispatch(argv: string[]): Promise<number> {
  // Global options may come before the command; the command is the first other word.
  let index = 0;
  const connection = emptyConnectionFlags();
  const hosts: HostFlags = { local: false };
  for (; index < argv.length; index++) {
    const arg = argv[index]!;
    if (!arg.startsWith("-")) break;
    if (arg === "-h" || arg === "--help") {
      process.stdout.write(overview());
      return 0;
    }
    if (arg === "-V" || arg === "--version") {
      process.stdout.write(`corral ${version()}\n`);
      return 0;
    }
    const last = takeConnectionOption(argv, index, connection) ?? takeHostOption(argv, index, hosts);
    if (last === undefined) throw new UsageError(`unknown option "${arg}"${didYouMean(arg.split("=")[0]!, globalOptionNames())}`);
    index = last;
  }
  const command = argv[index];
  const args = argv.slice(index + 1);
  // `corral` alone: the overview, as `corral help` (a person exploring, not a mistake).
  if (command === undefined) {
    process.stdout.write(overview());
    return 0;
  }
  // Shell completion asks here on every TAB (complete.ts); it must never fail loudly.
  if (command === "__complete") {
    const { complete } = await import("./complete.js");
    return complete(args, connectOptionsOf(connection));
  }
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMAND_NAMES)}`);
  // `corral X --help` is `corral help X` (for every command, the daemon's too).
  if (wantsHelp(args)) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  if (command === "help") {
    const topic = args[0];
    if (topic === undefined) process.stdout.write(overview());
    else if (isCommand(topic)) process.stdout.write(commandHelp(topic));
    else throw new UsageError(`unknown command "${topic}"${didYouMean(topic, COMMAND_NAMES)}`, "help");
    return 0;
  }
  if (command === "completion") {
    const { completionScript } = await import("./complete.js");
    return completionScript(args);
  }
  if (command === "server") {
    return runServer(args);
  }
  // Offline: these read and write files only, never a daemon.
  if (command === "check" || command === "init") {
    const offline = await import("./commands/offline-config.js");
    return command === "check" ? offline.check(args) : offline.init(args);
  }

  const globals = extractGlobals(args, connection, hosts, command);
  const address = connection.values["--address"];
  const config = hosts.config ?? (address === undefined ? process.env.CORRAL_CONFIG || undefined : undefined);
  if (config !== undefined) {
    if (address !== undefined) throw new UsageError("give --config (several hosts) or --address (one daemon), not both", command);
    const hostDeadlineMs = hosts.hostTimeout === undefined ? undefined : parseDuration(hosts.hostTimeout, "--host-timeout", command);
    // Loaded only in multi-host mode: it reads YAML, which a one-daemon command never needs.
    const { runFleetCommand } = await import("./fleet/run.js");
    return runFleetCommand(command, globals.rest, {
      configPath: config,
      local: hosts.local,
      connectDefaults: connectOptionsOf(connection),
      ...(hosts.host !== undefined ? { host: hosts.host } : {}),
      ...(hostDeadlineMs !== undefined ? { hostDeadlineMs } : {}),
    });
  }
  if (hosts.local || hosts.host !== undefined || hosts.hostTimeout !== undefined) {
    throw new UsageError("--local, --host and --host-timeout choose among the hosts of a config: give --config FILE (or set $CORRAL_CONFIG)", command);
  }
  const { CLIENT_COMMANDS, runClientCommand } = await import("./run.js");
  return runClientCommand(CLIENT_COMMANDS[command]!, globals.rest, connectOptionsOf(connection));
}

/** Runs the `corral` command line (without "node" and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`corral: ${error.message}\n${commandUsage(error.command ?? "")}\n`);
      process.stderr.write(`run \`corral help${error.command ? ` ${error.command}` : ""}\` for more\n`);
      return USAGE_EXIT;
    }
    process.stderr.write(`corral: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
