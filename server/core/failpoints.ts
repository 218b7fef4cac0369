// Fault injection for crash tests, off unless CORRAL_FAILPOINTS is set (e.g.
// "crash-after-fork,state-save-delay-ms=5000"): lets a test kill the daemon at an exact point
// that no outside timing can hit reliably (etcd's gofail does the same).
import { setTimeout as sleepFor } from "node:timers/promises";

const points = new Map<string, string>();
for (const item of (process.env.CORRAL_FAILPOINTS ?? "").split(",")) {
  const [name, value = ""] = item.trim().split("=", 2);
  if (name) points.set(name, value);
}

/** Dies at once with SIGKILL (no cleanup, like a crash) when this failpoint is set. */
export function crashPoint(name: string): void {
  if (points.has(name)) process.kill(process.pid, "SIGKILL");
}

/** The text a failpoint is set to ("" when set without a value), or undefined when it is not set. */
export function failpointValue(name: string): string | undefined {
  return points.get(name);
}

/** The number a failpoint is set to, or undefined. */
export function failpointNumber(name: string): number | undefined {
  const value = points.get(name);
  return value === undefined || value === "" || Number.isNaN(Number(value)) ? undefined : Number(value);
}

/** Waits the milliseconds this failpoint is set to (a slow disk, a held event loop); at once when it is not set. */
export async function failpointDelay(name: string): Promise<void> {
  const ms = failpointNumber(name);
  if (ms) await sleepFor(ms);
}
