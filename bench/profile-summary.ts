// `node dist/bench/profile-summary.js FILE.cpuprofile [TOP] [SKIP_MS]`: where a V8 CPU profile's
// time went, as self time per function (with its file) and per file, for the before/after notes
// of issue 19. SKIP_MS leaves out the profile's first milliseconds (the daemon's start-up).
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

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary FILE.cpuprofile [TOP]");
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Self time per node: each sample's delta goes to the node sampled.
const selfUs = new Map<number, number>();
const skipUs = Number(skipArg ?? 0) * 1000;
let elapsedUs = 0;
profile.samples.forEach((id, i) => {
  elapsedUs += profile.timeDeltas[i] ?? 0;
  if (elapsedUs >= skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

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
// Inclusive time: a node's self time plus its descendants' (recursion counted once per label).
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const n = byId.get(at)!;
    const name = n.callFrame.functionName || "(anonymous)";
    if (name === "(idle)" || name === "(root)") continue;
    const label = `${name} ${where(n)}:${n.callFrame.lineNumber + 1}`;
    if (seen.has(label)) continue;
    seen.add(label);
    inclusive.set(label, (inclusive.get(label) ?? 0) + us);
  }
}
console.log(`${basename(file)}: busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`);
print("self time by function", fnTotals);
print("self time by file", fileTotals);
print("inclusive time by function", inclusive);
