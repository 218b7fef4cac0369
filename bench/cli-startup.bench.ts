// The CLI's `corral status` round trip as a person or a script pays it: a fresh `node
// bin/corral.js status` process (the bundled CLI) against a daemon with 20 programs, timed from
// spawn to exit. Several CLIs can be compared in the same run, interleaved so that the machine's
// load falls on each alike: CORRAL_BENCH_CLIS="this=bin/corral.js,main=/work/main/bin/corral.js".
// Goal (DESIGN.md): <= 150 ms. `npm run build && node dist/bench/cli-startup.bench.js [RUNS]`
import { execFile } from "node:child_process";
import { join } from "node:path";
import { repoRoot, startTestDaemon } from "../test/helpers/daemon.js";
import { quantile } from "./quantile.js";

const RUNS = Number(process.argv[2] ?? 30);
const GOAL_MS = 150;
const clis = (process.env.CORRAL_BENCH_CLIS ?? `this=${join(repoRoot, "bin/corral.js")}`).split(",").map((entry) => {
  const [label, path] = entry.split("=") as [string, string];
  return { label, path };
});

const programs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${i}`, { command: ["sleep", "600"], startsecs: 0 }]));
const daemon = await startTestDaemon({ programs });

function once(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    // The exit code is 0 (all RUNNING) or 3 (not yet): either is a full round trip.
    execFile(process.execPath, [path, "status"], { env: { ...process.env, CORRAL_ADDRESS: daemon.address } }, (error) => {
      if (error && error.code !== 3) reject(error);
      else resolve(performance.now() - start);
    });
  });
}

try {
  for (const cli of clis) for (let i = 0; i < 3; i++) await once(cli.path); // warm the page cache (and Node's compile cache)
  const samples = new Map(clis.map((cli) => [cli.label, [] as number[]]));
  for (let i = 0; i < RUNS; i++) for (const cli of clis) samples.get(cli.label)!.push(await once(cli.path));
  console.log(`corral status round trip, ${RUNS} runs each, node ${process.version}, goal <= ${GOAL_MS} ms (median)`);
  console.log("| CLI | median ms | p90 ms | min ms | goal |");
  console.log("|---|---|---|---|---|");
  for (const [label, ms] of samples) {
    const median = quantile(ms, 0.5);
    console.log(
      `| ${label} | ${median.toFixed(0)} | ${quantile(ms, 0.9).toFixed(0)} | ${Math.min(...ms).toFixed(0)} | ${median <= GOAL_MS ? "met" : "missed"} |`,
    );
  }
} finally {
  await daemon.stop();
}
