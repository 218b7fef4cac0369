// What a `corral` command gets in multi-host mode (--config with a hosts map): the fleet of
// daemons, the hosts in scope (all, --host NAME, or --local), and a CliContext per host.
import type { Fleet, HostTarget } from "../../ts/hosts.js";
import type { CliContext } from "../context.js";
import type { TerminalContext } from "../run.js";

export interface FleetContext extends TerminalContext {
  readonly fleet: Fleet;
  /** The hosts the command acts on, in config order. */
  readonly scope: readonly string[];
  /** A single-daemon context for one host (its client, its address in messages). */
  forHost(host: string): CliContext;
}

/** "lab2 (10.0.0.2:7070)" for messages. */
export function describeTarget(target: HostTarget): string {
  return `${target.name} (${target.address})`;
}
