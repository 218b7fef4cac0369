// `npm run bench [-- --quick | --scale] [--only TEXT]`: runs the rows of bench/rows/index.ts and
// prints one table (corral, baseline measured in the same run, ratio, goal, pass/fail). --quick:
// fewer repetitions and shorter windows (about a minute); --scale: the fleet rows at 500 and 2000
// programs with the cost per program. Exit code 1 when a row fails its goal or errors.
import { cpus } from "node:os";
import { createContext } from "./lib/context.js";
import type { BenchRow, Measurement, Unit } from "./lib/row.js";
import { processRows } from "./rows/process.js";
import { statusRow } from "./rows/api.js";
import { rows as registry } from "./rows/index.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const scale = args.includes("--scale");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;

// --scale also shows the rows at 500 next to 2000, without their goals, so the growth reads off.
const selected: BenchRow[] = scale
  ? [...processRows(500, { scale: true, goals: false }), statusRow(500, { scale: true }), ...registry.filter((r) => r.scale)]
  : registry.filter((r) => !r.scale);
const rows = selected.filter((r) => only === undefined || r.name.includes(only));

const decimals = (value: number, unit: Unit) =>
  unit === "%" ? 3 : unit === "fds" ? 0 : Math.abs(value) < 1 ? 3 : Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
const show = (value: number | undefined, unit: Unit) => (value === undefined ? "-" : `${value.toFixed(decimals(value, unit))} ${unit}`);

type Cells = [row: string, corral: string, baseline: string, ratio: string, goal: string, result: string, detail: string];
const table: Cells[] = [];
let failures = 0;
const ctx = createContext({ quick, scale });
const started = performance.now();
try {
  for (const row of rows) {
    let m: Measurement;
    try {
      m = await row.measure(ctx);
    } catch (error) {
      failures++;
      table.push([row.name, "error", row.baseline, "-", row.goal.text, "ERROR", error instanceof Error ? error.message.split("\n")[0]! : String(error)]);
      ctx.progress(`${row.name}: ${error instanceof Error ? error.stack : String(error)}`);
      continue;
    }
    const pass = row.goal.pass(m);
    if (!pass) failures++;
    const ratio = m.baseline !== undefined && m.baseline > 0 ? `${(m.corral / m.baseline).toFixed(2)}×` : "-";
    table.push([
      row.name,
      show(m.corral, m.unit),
      `${show(m.baseline, m.unit)} (${row.baseline})`,
      ratio,
      row.goal.text,
      row.goal.text === "-" ? "-" : pass ? "pass" : "FAIL",
      m.detail ?? "",
    ]);
    ctx.progress(`${row.name}: ${show(m.corral, m.unit)} vs ${show(m.baseline, m.unit)} ${pass ? "pass" : "FAIL"}`);
  }
} finally {
  await ctx.close();
}

const header: Cells = ["row", "corral", "baseline (same run)", "ratio", "goal", "result", "detail"];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
const mode = scale ? "--scale" : quick ? "--quick" : "full";
console.log(
  `\ncorral bench (${mode}), ${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
);
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const cells of table) console.log(line(cells));
process.exitCode = failures > 0 ? 1 : 0;
