// `node dist/bench/orphan-reap.bench.js`: how long this machine's PID 1 leaves an orphaned zombie
// unreaped. It explains why a stop may not wait for a group's zombies to disappear (issue 7: in a
// container whose init reaps slowly, kill(-pgid, 0) kept finding the group for ~2 s).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { quantile } from "./quantile.js";

const ORPHANS = 5;
const gone: number[] = [];
for (let i = 0; i < ORPHANS; i++) {
  // The shell exits at once; its background sleep is reparented to PID 1 and exits 50 ms later.
  const pid = Number(spawnSync("/bin/sh", ["-c", "sleep 0.05 & echo $!"], { encoding: "utf8" }).stdout.trim());
  const started = performance.now();
  for (;;) {
    try {
      readFileSync(`/proc/${pid}/stat`);
    } catch {
      break;
    }
    await sleep(5);
  }
  gone.push(performance.now() - started);
}
console.log("| orphans | median ms until gone from /proc | min | max |");
console.log("|---|---|---|---|");
console.log(`| ${ORPHANS} | ${quantile(gone, 0.5).toFixed(0)} | ${Math.min(...gone).toFixed(0)} | ${Math.max(...gone).toFixed(0)} |`);
