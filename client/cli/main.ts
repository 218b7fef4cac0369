// Entry point of the `corral` command (bin/corral.js calls main). It loads only what the
// subcommand needs: the server code for `corral server`, the gRPC client for the others.
import { readFileSync } from "node:fs";
import { parseDuration } from "./args.js";
import { COMMANDS, UsageError, commandHelp, commandUsage, overview } from "./usage.js";

/** Exit code for a command line that cannot be understood. */
const USAGE_EXIT = 2;

interface GlobalOptions {
  address: string | undefined;
  /** Multi-host mode: --config FILE, --host NAME, --local, --host-timeout DURATION. */
  config: string | undefined;
  host: string | undefined;
  local: boolean;
  hostTimeout: string | undefined;
  help: boolean;
  rest: string[];
}

const VALUED_GLOBALS = { "--address": "address", "--config": "config", "--host": "host", "--host-timeout": "hostTimeout" } as const;

function emptyGlobals(): GlobalOptions {
  return { address: undefined, config: undefined, host: undefined, local: false, hostTimeout: undefined, help: false, rest: [] };
}

/** Takes a valued global option (--address X, --config=X, ...) at args[i]; returns how many args it used (0: none). */
function takeValued(options: GlobalOptions, args: string[], i: number, command?: string): number {
  const arg = args[i]!;
  for (const [flag, key] of Object.entries(VALUED_GLOBALS)) {
    if (arg === flag) {
      const value = args[i + 1];
      if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`, command);
      options[key] = value;
      return 2;
    }
    if (arg.startsWith(`${flag}=`)) {
      options[key] = arg.slice(flag.length + 1);
      return 1;
    }
  }
  return 0;
}

/** Takes the global options and -h/--help out of a command's arguments (they are valid anywhere before "--"). */
function extractGlobals(args: string[], command: string | undefined, options: GlobalOptions): GlobalOptions {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const used = takeValued(options, args, i, command);
    if (used > 0) {
      i += used - 1;
    } else if (arg === "--") {
      options.rest.push(...args.slice(i));
      break;
    } else if (arg === "--local") {
      options.local = true;
    } else if (arg === "-h" || arg === "--help") {
      options.help = true;
    } else {
      options.rest.push(arg);
    }
  }
  return options;
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
  // Loaded only here: the client commands never pay for the server's modules.
  const { runServer: run } = await import("../../server/main.js");
  await run(args);
  return 0;
}

async function dispatch(argv: string[]): Promise<number> {
  // Global options may come before the command; the command is the first other word.
  let index = 0;
  const globals = emptyGlobals();
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
    const used = takeValued(globals, argv, index);
    if (used > 0) index += used - 1;
    else if (arg === "--local") globals.local = true;
    else throw new UsageError(`unknown option "${arg}"`);
  }
  const command = argv[index];
  const args = argv.slice(index + 1);
  if (command === undefined) throw new UsageError("no command given");

  if (command === "server") return runServer(args);
  if (command === "help") {
    const topic = args[0];
    if (topic === undefined) process.stdout.write(overview());
    else if (COMMANDS.includes(topic)) process.stdout.write(commandHelp(topic));
    else throw new UsageError(`unknown command "${topic}"`);
    return 0;
  }
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);

  extractGlobals(args, command, globals);
  if (globals.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const config = globals.config ?? (globals.address === undefined ? process.env.CORRAL_CONFIG || undefined : undefined);
  if (config !== undefined) {
    if (globals.address !== undefined) throw new UsageError("give --config (several hosts) or --address (one daemon), not both", command);
    const hostDeadlineMs = globals.hostTimeout === undefined ? undefined : parseDuration(globals.hostTimeout, "--host-timeout", command);
    // Loaded only in multi-host mode: it reads YAML, which a one-daemon command never needs.
    const { runFleetCommand } = await import("./fleet/run.js");
    return runFleetCommand(command, globals.rest, { configPath: config, local: globals.local, ...(globals.host !== undefined ? { host: globals.host } : {}), ...(hostDeadlineMs !== undefined ? { hostDeadlineMs } : {}) });
  }
  if (globals.local || globals.host !== undefined || globals.hostTimeout !== undefined) {
    throw new UsageError("--local, --host and --host-timeout choose among the hosts of a config: give --config FILE (or set $CORRAL_CONFIG)", command);
  }
  const { CLIENT_COMMANDS, runClientCommand } = await import("./run.js");
  return runClientCommand(CLIENT_COMMANDS[command]!, globals.rest, globals.address);
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
