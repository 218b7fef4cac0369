// Which of a config's hosts is this machine, by QMI's rule: a host whose address resolves to a
// loopback address or to an address of a local interface. Used by the daemon (its own name)
// and by the CLI (`--local`); both let an explicit name win over the rule.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";

export interface NamedAddress {
  name: string;
  /** "host:port", "[v6]:port" or "unix:/path". */
  address: string;
}

/** Several hosts of the config are this machine, so the rule cannot say which one it is. */
export class AmbiguousHostError extends Error {
  constructor(
    readonly matches: { name: string; address: string; why: string }[],
    hint: string,
  ) {
    super(`this machine matches several hosts of the config: ${matches.map((m) => `${m.name} (${m.address}: ${m.why})`).join(", ")}; ${hint}`);
    this.name = "AmbiguousHostError";
  }
}

/** The host part of "host:port" or "[::1]:port"; undefined for a unix: address. */
export function addressHost(address: string): string | undefined {
  if (address.startsWith("unix:")) return undefined;
  const match = /^(?:\[([^\]]+)\]|(.*)):\d+$/.exec(address);
  return match ? (match[1] ?? match[2]) : address;
}

export function isLoopbackIp(ip: string): boolean {
  return (isIP(ip) === 4 && ip.startsWith("127.")) || ip === "::1" || ip.startsWith("::ffff:127.");
}

export interface IdentifyOptions {
  /** What to tell the user when the rule is ambiguous (how to name the host instead). */
  hint: string;
  /** For tests: the interfaces to match against (default os.networkInterfaces()). */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** Why `address` is this machine, or undefined when it is not (or cannot be resolved). */
async function whyLocal(address: string, localIps: Set<string>): Promise<string | undefined> {
  const host = addressHost(address);
  if (host === undefined) return "a socket on this machine";
  let ips: string[];
  try {
    // An IP literal resolves to itself without any network traffic.
    ips = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return undefined; // a name that does not resolve here is some other machine, as far as we can tell
  }
  for (const ip of ips) {
    if (isLoopbackIp(ip)) return `${ip} is loopback`;
    if (localIps.has(ip)) return `${ip} is an address of a local interface`;
  }
  return undefined;
}

/**
 * The one host whose address is this machine; undefined when none is; AmbiguousHostError when
 * several are (e.g. two hosts on 127.0.0.2 and 127.0.0.3).
 */
export async function identifyHost(hosts: readonly NamedAddress[], options: IdentifyOptions): Promise<{ name: string; why: string } | undefined> {
  const localIps = new Set<string>();
  for (const list of Object.values(options.interfaces ?? networkInterfaces())) {
    for (const info of list ?? []) localIps.add(info.address);
  }
  // Resolved all at once (a slow DNS name costs its time once, not once per host); order kept.
  const reasons = await Promise.all(hosts.map((host) => whyLocal(host.address, localIps)));
  const matches = hosts.flatMap((host, i) => (reasons[i] === undefined ? [] : [{ name: host.name, address: host.address, why: reasons[i] }]));
  if (matches.length > 1) throw new AmbiguousHostError(matches, options.hint);
  return matches[0] && { name: matches[0].name, why: `${matches[0].address}: ${matches[0].why}` };
}
