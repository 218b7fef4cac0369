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
