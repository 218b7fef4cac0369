// Two hosts on one machine for multi-host tests: either two network namespaces joined by a veth
// pair (real, separate network stacks; needs root and iproute2) or two loopback addresses
// (127.0.0.2 / 127.0.0.3). Also: a free port, and the CLI run on one side.
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { runCorral, type CliResult } from "./cli.js";

export interface TwoHosts {
  mode: "netns" | "loopback";
  /** Daemon addresses: "ip:port". */
  addressA: string;
  addressB: string;
  /** Prefix that runs a command on host A / B (empty: this namespace). */
  wrapA: string[];
  wrapB: string[];
  /** Removes what was created (namespaces); safe to call twice. */
  cleanup(): void;
}

function ip(args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
}

/** A port that was free on `host` a moment ago (the kernel picked it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function loopbackHosts(): Promise<TwoHosts> {
  const [portA, portB] = [await freePort("127.0.0.2"), await freePort("127.0.0.3")];
  return { mode: "loopback", addressA: `127.0.0.2:${portA}`, addressB: `127.0.0.3:${portB}`, wrapA: [], wrapB: [], cleanup: () => {} };
}

/**
 * Namespaces corral-t-PID-a / -b with a veth pair, 10.77.0.1/24 and 10.77.0.2/24 (the
 * addresses exist only inside those namespaces, so parallel runs do not collide). Returns the
 * reason instead when namespaces cannot be made here.
 */
export function netnsHosts(): TwoHosts | { skip: string } {
  const nsA = `corral-t-${process.pid}-a`;
  const nsB = `corral-t-${process.pid}-b`;
  const vethA = `ct${process.pid}a`.slice(0, 15);
  const vethB = `ct${process.pid}b`.slice(0, 15);
  let created: string[] = [];
  // A test process that dies before its t.after still removes its namespaces (ip is synchronous here).
  process.once("exit", () => cleanup());
  const cleanup = (): void => {
    for (const ns of created) {
      try {
        ip(["netns", "del", ns]); // deleting a namespace deletes its end of the veth pair, and so both
      } catch {
        // already gone
      }
    }
    created = [];
  };
  try {
    ip(["netns", "add", nsA]);
    created.push(nsA);
    ip(["netns", "add", nsB]);
    created.push(nsB);
    ip(["link", "add", vethA, "type", "veth", "peer", "name", vethB]);
    ip(["link", "set", vethA, "netns", nsA]);
    ip(["link", "set", vethB, "netns", nsB]);
    for (const [ns, veth, address] of [
      [nsA, vethA, "10.77.0.1/24"],
      [nsB, vethB, "10.77.0.2/24"],
    ] as const) {
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "addr", "add", address, "dev", veth]);
      ip(["-n", ns, "link", "set", veth, "up"]);
    }
  } catch (error) {
    cleanup();
    try {
      ip(["link", "del", vethA]); // if it was made but not yet moved
    } catch {
      // not there
    }
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skip: `network namespaces cannot be created here (${stderr || (error as Error).message})` };
  }
  return {
    mode: "netns",
    addressA: "10.77.0.1:7070",
    addressB: "10.77.0.2:7070",
    wrapA: ["ip", "netns", "exec", nsA],
    wrapB: ["ip", "netns", "exec", nsB],
    cleanup,
  };
}

/** This process's environment without the CORRAL_* settings that would point the CLI elsewhere, plus extra. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CORRAL_ADDRESS;
  delete env.CORRAL_CONFIG;
  delete env.CORRAL_HOST_NAME;
  return { ...env, ...extra };
}

/** Runs `corral ARGS` under `wrap` (e.g. inside namespace A), without $CORRAL_ADDRESS; 30 s at most. */
export function corralOn(wrap: string[], args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCorral(wrap, args, cliEnv(env));
}
