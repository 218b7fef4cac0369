// Multi-host mode of the `corral` CLI (--config FILE or $CORRAL_CONFIG): reads the config's
// hosts map and program hosts, and runs status/start/stop/restart/signal/logs/events across
// hosts; every other command goes to one host (--host NAME, --local, or this machine's host).
import { Fleet } from "../../ts/hosts.js";
import type { ConnectOptions } from "../../ts/index.js";
import { CLIENT_COMMANDS, clientContext, runOnClient, silenceTlsDeprecation, withTerminal } from "../run.js";
import { UsageError } from "../usage.js";
import { describeTarget, type FleetContext } from "./context.js";
import { fleetEvents } from "./events.js";
import { fleetLifecycle } from "./lifecycle.js";
import { fleetStatus } from "./status.js";

export interface FleetSelection {
  configPath: string;
  /** --host NAME: only that host. */
  host?: string;
  /** --local: only this machine's host. */
  local: boolean;
  /** --host-timeout: how long a host may take to answer before it counts as unreachable. */
  hostDeadlineMs?: number;
  /** --tls-* / --token-file (and their environment variables): for hosts whose entry names no credentials. */
  connectDefaults?: ConnectOptions;
}

/** The server code multi-host mode needs (imported lazily: client/ may reach server/ only that way). */
type FleetServerCode = typeof import("../../../server/config/fleet-entry.js");

type FleetCommand = (ctx: FleetContext, args: string[]) => Promise<number>;

const FLEET_COMMANDS: Record<string, FleetCommand> = {
  status: fleetStatus,
  start: fleetLifecycle("start"),
  stop: fleetLifecycle("stop"),
  restart: fleetLifecycle("restart"),
  signal: fleetLifecycle("signal"),
  logs: fleetLifecycle("logs"),
};

/** Exit code of a config that cannot be used (as `corral server` gives). */
const CONFIG_EXIT = 2;

/** This machine's host: $CORRAL_HOST_NAME, else the hosts entry whose address is this machine. */
async function localHost(fleet: Fleet, env: NodeJS.ProcessEnv, server: FleetServerCode): Promise<string> {
  const given = env.CORRAL_HOST_NAME;
  if (given) {
    fleet.target(given); // an unknown name is an error naming the hosts
    return given;
  }
  const hint = "set CORRAL_HOST_NAME=NAME, or use --host NAME";
  const found = await server.identifyHost(
    fleet.hostNames.map((name) => fleet.target(name)),
    { hint },
  );
  if (!found) throw new UsageError(`--local: no host of the config is this machine (no address is loopback or a local interface's); ${hint}`);
  return found.name;
}

export async function runFleetCommand(command: string, args: string[], selection: FleetSelection, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The server's own config loader (schema, YAML positions), loaded only now: one-daemon commands never pay for it.
  const server: FleetServerCode = await import("../../../server/config/fleet-entry.js");
  const { ConfigError, loadConfigFile, AmbiguousHostError } = server;
  let fleet: Fleet;
  try {
    const config = await loadConfigFile(selection.configPath);
    if (config.hosts.length === 0)
      throw new UsageError(`${selection.configPath} has no hosts map: --config (or $CORRAL_CONFIG) needs one; without it, use --address`);
    fleet = new Fleet({
      hosts: config.hosts,
      programs: config.programs.map((program) => ({ name: program.name, ...(program.host !== undefined ? { host: program.host } : {}) })),
      ...(selection.hostDeadlineMs !== undefined ? { hostDeadlineMs: selection.hostDeadlineMs } : {}),
      ...(selection.connectDefaults ? { connectDefaults: selection.connectDefaults } : {}),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return CONFIG_EXIT;
  }
  if (selection.connectDefaults?.tls || fleet.hostNames.some((host) => fleet.target(host).tls)) silenceTlsDeprecation();
  try {
    const allHosts = args.includes("--all-hosts");
    if (allHosts && command !== "events") throw new UsageError("--all-hosts is for `corral events`", command);
    let scope: string[];
    try {
      if (selection.host !== undefined) scope = [fleet.target(selection.host).name];
      else if (selection.local) scope = [await localHost(fleet, env, server)];
      else scope = [...fleet.hostNames];
    } catch (error) {
      if (error instanceof AmbiguousHostError) throw new UsageError(error.message, command);
      if (error instanceof UsageError) throw error;
      throw new UsageError(error instanceof Error ? error.message : String(error), command);
    }

    const fleetCommand = command === "events" ? (allHosts || scope.length === 1 ? fleetEvents : undefined) : FLEET_COMMANDS[command];
    if (fleetCommand === undefined) {
      // One daemon: the host named, this machine's, else a usage error.
      let host: string;
      if (scope.length === 1) host = scope[0]!;
      else {
        try {
          host = await localHost(fleet, env, server);
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          throw new UsageError(
            `\`corral ${command}\` talks to one daemon: say which with --host NAME or --local${command === "events" ? ", or use --all-hosts" : ""} (${why})`,
            command,
          );
        }
      }
      return await runOnClient(CLIENT_COMMANDS[command]!, args, fleet.client(host), describeTarget(fleet.target(host)));
    }
    return await withTerminal((base) => fleetCommand({ ...base, fleet, scope, forHost: (host) => ({ ...base, ...clientContext(fleet.client(host)) }) }, args));
  } finally {
    fleet.close();
    // A host that hangs mid-handshake (e.g. a TLS daemon that stopped answering) leaves a socket
    // that channel.close() does not end, which would keep the CLI alive until the OS gives up
    // (~20 s) after the answer is printed. The work is done: leave soon, whatever lingers.
    setTimeout(() => process.exit(), LINGER_MS).unref();
  }
}

/** How long the CLI waits for connections to wind down after a multi-host command. */
const LINGER_MS = 300;
