// `node dist/bench/spawn-log.bench.js` (after a build): what the spawn log (state/spawns.jsonl,
// issue 7) adds to every spawn: the "intent" line before the fork and the "spawned" line after
// it, appended synchronously. 5 rounds of 5000 spawns; the median round is quoted.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpawnLog } from "../server/core/store/spawn-log.js";
import { quantile } from "./quantile.js";

const SPAWNS = 5000;
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), "corral-bench-spawnlog-"));
const log = new SpawnLog(join(dir, "spawns.jsonl"), "bench");
const perSpawnUs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now();
  for (let i = 0; i < SPAWNS; i++) {
    log.intent(`program-${i % 500}`, i, { stdout: 1234, stderr: 0 });
    log.spawned(`program-${i % 500}`, i, 100_000 + i, 123_456_789);
  }
  perSpawnUs.push(((performance.now() - started) / SPAWNS) * 1000);
  log.clear();
}
log.close();
rmSync(dir, { recursive: true, force: true });
console.log("| spawns per round | rounds | median µs per spawn (intent + spawned) | min | max |");
console.log("|---|---|---|---|---|");
console.log(
  `| ${SPAWNS} | ${ROUNDS} | ${quantile(perSpawnUs, 0.5).toFixed(1)} | ${Math.min(...perSpawnUs).toFixed(1)} | ${Math.max(...perSpawnUs).toFixed(1)} |`,
);
