// Who this daemon is in a several-host config, and where it must listen: --host-name (or
// server.host_name) wins; otherwise QMI's rule picks the hosts entry whose address is this
// machine. The daemon then listens on that entry's TCP address too, so the config that tells
// clients where it is also tells the daemon where to be.
import { addressHost, identifyHost } from "./config/host-identity.js";
import type { CorralConfig } from "./config/index.js";

export interface OwnHost {
  /** undefined: no name given and no hosts entry is this machine (the manager uses os.hostname()). */
  hostName?: string;
  /** How the name was found, for the startup log. */
  why?: string;
  /** The TCP listeners: the given ones plus this host's hosts entry address when not already there. */
  listen: string[];
}

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", ""]);

export async function resolveOwnHost(config: CorralConfig, given: string | undefined, listen: string[]): Promise<OwnHost> {
  let hostName = given ?? config.server.hostName;
  let why = given !== undefined ? "--host-name" : hostName !== undefined ? "server.host_name" : undefined;
  if (hostName === undefined && config.hosts.length > 0) {
    // Ambiguity (AmbiguousHostError) is the caller's to report: no name can be guessed.
    const found = await identifyHost(config.hosts, { hint: "start the daemon with --host-name NAME" });
    if (found) ({ name: hostName, why } = found);
  }
  const entry = config.hosts.find((host) => host.name === hostName);
  const own = entry && addressHost(entry.address) !== undefined ? entry.address : undefined;
  const port = (address: string) => address.slice(address.lastIndexOf(":") + 1);
  // A wildcard listener on the same port already covers the entry's address (binding both would fail).
  const covered =
    own === undefined || listen.some((address) => address === own || (port(address) === port(own) && WILDCARD_HOSTS.has(addressHost(address) ?? "-")));
  return { ...(hostName !== undefined ? { hostName } : {}), ...(why !== undefined ? { why } : {}), listen: covered ? listen : [...listen, own] };
}
