// A full garbage collection on demand, for tests that check what the code under test still holds.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
// The flag exposes gc only in contexts made after it is set: a fresh one hands it over.
const gc = runInNewContext("gc") as () => void;

/**
 * Collects everything unreachable and clears dead WeakRefs. WeakRef targets touched in the
 * current job stay alive until it ends, so a macrotask turn comes first.
 */
export async function collectGarbage(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
}

/** How many of these WeakRefs still reach their target. */
export function stillReachable(refs: WeakRef<object>[]): number {
  return refs.filter((ref) => ref.deref() !== undefined).length;
}
