// Writes COUNT lines, one every INTERVAL_MS, each holding the wall-clock time (ms, with a
// fraction) at which it was written, with one write(2) each: the FollowLogs latency fixture.
// `node dist/bench/limit/line-writer.js COUNT INTERVAL_MS`
import { writeSync } from "node:fs";

const count = Number(process.argv[2] ?? 100);
const intervalMs = Number(process.argv[3] ?? 20);
let written = 0;
const timer = setInterval(() => {
  writeSync(1, `${(performance.timeOrigin + performance.now()).toFixed(3)}\n`);
  if (++written >= count) clearInterval(timer);
}, intervalMs);
