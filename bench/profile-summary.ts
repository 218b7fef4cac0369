// `node dist/bench/profile-summary.js FILE.cpuprofile [TOP]`: where a V8 CPU profile's time went,
// as self time per function (with its file) and per file, for the before/after notes of issue 19.
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary FILE.cpuprofile [TOP]");
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Self time per node: each sample's delta goes to the node sampled.
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const where = (n: ProfileNode) => {
  const url = n.callFrame.url;
  if (url === "") return "(native)";
  const m = /\/(dist|node_modules)\/(.*)$/.exec(url);
  return m
    ? m[1] === "dist"
      ? m[2]!
      : `nm/${m[2]!
          .split("/")
          .slice(0, m[2]!.startsWith("@") ? 2 : 1)
          .join("/")}`
    : url.startsWith("node:")
      ? url
      : basename(url);
};
const fnTotals = new Map<string, number>();
const fileTotals = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || "(anonymous)";
  if (name === "(idle)") {
    idle += us;
    continue;
  }
  busy += us;
  const label = `${name} ${where(n)}:${n.callFrame.lineNumber + 1}`;
  fnTotals.set(label, (fnTotals.get(label) ?? 0) + us);
  const f = name.startsWith("(") ? name : where(n);
  fileTotals.set(f, (fileTotals.get(f) ?? 0) + us);
}
const print = (title: string, totals: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [label, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${label}`);
};
console.log(`${basename(file)}: busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`);
print("self time by function", fnTotals);
print("self time by file", fileTotals);
