// The row registry: every row of `npm run bench`, in the order they run and print. To add a row,
// write a BenchRow (bench/lib/row.ts: name, baseline, goal, measure returning corral + baseline
// measured in the same run) in a file of bench/rows/ and list it here. Rows marked scale run only
// under `--scale`.
import type { BenchRow } from "../lib/row.js";
import { cliStatusRow, statusRow } from "./api.js";
import { fanOutRow } from "./events.js";
import { captureRow, followRow, stalledFollowersRow } from "./logs.js";
import { rotationCostRow } from "./log-rotation.js";
import { statsRows } from "./monitor.js";
import { processRows } from "./process.js";

export const rows: BenchRow[] = [
  ...processRows(500),
  statusRow(1),
  statusRow(100),
  statusRow(500),
  cliStatusRow(500),
  ...statsRows(1000),
  fanOutRow(100),
  followRow,
  captureRow,
  rotationCostRow,
  stalledFollowersRow,
  // --scale: the same fleet figures at 2000 programs (beside those at 500), cost per program.
  ...processRows(2000, { scale: true, goals: false }),
  statusRow(2000, { scale: true }),
];
