// `corral check FILE` (offline validation: every problem with file:line:col, the dependency graph
// included, exit 0 or 2) and `corral init [FILE]` (the built-in example, never overwriting).
// No daemon runs in these tests: both commands must work without one.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCorral } from "../helpers/cli.js";

let dir: string;
// An address where no daemon listens: if either command tried to connect it would fail.
const env = () => ({ ...process.env, CORRAL_ADDRESS: `unix://${join(dir, "nobody.sock")}` });
const corral = (args: string[]) => runCorral([], args, env());

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-config-tooling-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("corral init writes the built-in example, which corral check accepts; it never overwrites without --force", async () => {
  const file = join(dir, "corral.yaml");
  const wrote = await corral(["init", file]);
  assert.equal(wrote.code, 0, wrote.stderr);
  assert.match(wrote.stdout, /wrote .*corral\.yaml/);
  const text = await readFile(file, "utf8");
  assert.match(text, /^programs:\n {2}ticker:/m);
  const printed = await corral(["init", "-"]);
  assert.equal(printed.stdout, text);

  const checked = await corral(["check", file]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.equal(checked.stdout, `${file}: ok (4 program(s))\n`);

  await writeFile(file, "programs: {}\n");
  const again = await corral(["init", file]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /corral\.yaml exists; pass --force to overwrite it/);
  assert.equal(await readFile(file, "utf8"), "programs: {}\n");
  assert.equal((await corral(["init", file, "--force"])).code, 0);
  assert.equal(await readFile(file, "utf8"), text);
});

test("corral check reports every problem with file:line:col and exits 2; the dependency graph is checked too", async () => {
  const file = join(dir, "bad.yaml");
  await writeFile(
    file,
    ["programs:", "  a:", "    command: [sleep, '1']", "    startsecs: soon", "  b:", "    command: [sleep, '1']", "    colour: blue", ""].join("\n"),
  );
  const good = join(dir, "good.yaml");
  await writeFile(good, "programs:\n  x: {command: [sleep, '1']}\n");
  const result = await corral(["check", good, file]);
  assert.equal(result.code, 2, result.stdout);
  assert.match(result.stdout, /good\.yaml: ok \(1 program\(s\)\)/);
  assert.match(result.stderr, /bad\.yaml:4:\d+: programs\.a\.startsecs: bad duration "soon"/);
  assert.match(result.stderr, /bad\.yaml:7:\d+: programs\.b\.colour: unknown key/);
  assert.match(result.stderr, /bad\.yaml: 2 problems\n$/);

  // The graph is checked once the programs themselves are valid (zod runs whole-config checks on a valid shape).
  const graph = join(dir, "graph.yaml");
  await writeFile(
    graph,
    [
      "programs:",
      "  a:",
      "    command: [sleep, '1']",
      "    depends_on: {b: started}",
      "  b:",
      "    command: [sleep, '1']",
      "    depends_on: {a: started, ghost: ready}",
      "",
    ].join("\n"),
  );
  const cycle = await corral(["check", graph]);
  assert.equal(cycle.code, 2, cycle.stdout);
  assert.match(cycle.stderr, /graph\.yaml:7:\d+: programs\.b\.depends_on\.ghost: .*ghost/);
  assert.match(cycle.stderr, /graph\.yaml:\d+:\d+: programs\.\w\.depends_on.*cycle/);

  const missing = await corral(["check", join(dir, "absent.yaml")]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /absent\.yaml: config file not found/);
});
