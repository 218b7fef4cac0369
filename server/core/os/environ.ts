// Finds processes by a variable in their environment (/proc/PID/environ, readable for our own
// processes): every run gets CORRAL_PROGRAM and CORRAL_RUN_ID, so a run whose pid was never
// recorded (the daemon died between fork and the spawn log) can still be found and adopted.
import { readFileSync } from "node:fs";
import { listPids } from "./proc.js";

/** Pids whose initial environment holds every one of these NAME=value pairs. */
export function findByEnvironment(pairs: Record<string, string>): number[] {
  const wanted = Object.entries(pairs).map(([name, value]) => Buffer.from(`\0${name}=${value}\0`));
  const found: number[] = [];
  for (const pid of listPids()) {
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // gone, or not ours (EACCES)
    }
    // A leading NUL lets the first variable match like the others.
    const padded = Buffer.concat([Buffer.from([0]), environ, Buffer.from([0])]);
    if (wanted.every((pair) => padded.includes(pair))) found.push(pid);
  }
  return found;
}

type Wanted = { pairs: Buffer[]; resolve: (pids: number[]) => void };
let pendingScan: Wanted[] | undefined;

/**
 * Like findByEnvironment, but every caller in the same turn of the event loop shares one pass
 * over /proc (a stop-all of many runs reads each environ once, not once per run).
 */
export function findByEnvironmentSoon(pairs: Record<string, string>): Promise<number[]> {
  return new Promise((resolve) => {
    if (!pendingScan) {
      const batch: Wanted[] = [];
      pendingScan = batch;
      setImmediate(() => {
        pendingScan = undefined;
        scanEnvironments(batch);
      });
    }
    pendingScan.push({ pairs: Object.entries(pairs).map(([name, value]) => Buffer.from(`\0${name}=${value}\0`)), resolve });
  });
}

function scanEnvironments(batch: Wanted[]): void {
  const found = batch.map(() => [] as number[]);
  let pids: number[] = [];
  try {
    pids = listPids();
  } catch {
    // no /proc: nothing found
  }
  for (const pid of pids) {
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    const padded = Buffer.concat([Buffer.from([0]), environ, Buffer.from([0])]);
    batch.forEach((wanted, i) => {
      if (wanted.pairs.every((pair) => padded.includes(pair))) found[i].push(pid);
    });
  }
  batch.forEach((wanted, i) => wanted.resolve(found[i]));
}
