// `node dist/bench/log-budget.bench.js` (after a build): the cost of one server.logs.max_total
// check at 100 and 500 programs (2 streams each, 3 backups per stream), under the cap, so what
// is timed is the accounting the daemon does at most once a second while logs grow. The first
// check stats every backup; later ones stat only the current files (backups are cached until a
// rotation or drop changes them).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessManager } from "../server/core/process/manager.js";
import { program } from "../test/helpers/core.js";
import { quantile } from "./quantile.js";

const SIZES = (process.env.BENCH_LOG_BUDGET_SIZES ?? "100,500").split(",").map(Number);
const CHECKS = 20;

console.log("| programs | log files | first check ms | later checks p50 ms | p95 ms |");
console.log("|---|---|---|---|---|");
for (const size of SIZES) {
  const home = mkdtempSync(join(tmpdir(), "corral-bench-budget-"));
  const programs = Array.from({ length: size }, (_, i) => program(`p${i}`, ["sleep", "1"], { log: { maxBytes: 4096, backups: 3 } }));
  const manager = new ProcessManager({ home, programs, logMaxTotalBytes: 2 ** 40 });
  for (const p of programs) {
    for (const stream of ["stdout", "stderr"]) {
      const file = join(home, "logs", `${p.name}.${stream}.log`);
      writeFileSync(file, "x".repeat(1000));
      for (let n = 1; n <= 3; n++) writeFileSync(`${file}.${n}`, "y".repeat(4096));
    }
  }
  const times: number[] = [];
  for (let i = 0; i <= CHECKS; i++) {
    const t0 = performance.now();
    await manager.logBudget.enforce();
    times.push(performance.now() - t0);
  }
  const later = times.slice(1);
  console.log(`| ${size} | ${size * 2 * 4} | ${times[0].toFixed(1)} | ${quantile(later, 0.5).toFixed(1)} | ${quantile(later, 0.95).toFixed(1)} |`);
  await manager.shutdown();
  rmSync(home, { recursive: true, force: true });
}
