#!/usr/bin/env node
// The whole test suite, as README and .ci/run call it: the system packages, the pinned tools and
// the test collector (scripts/install-system-tools.sh, install-tools.sh, build-otelcol.sh; all
// idempotent), proto lint + generated-code drift,
// typecheck/build, every test file under dist/test with node's own test runner, then the
// Python (pytest) and Go (go test) client suites against the real daemon.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// go from PATH, as an absolute path (so a missing one is reported like the other tools).
const goBinary = () => {
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, "go"))) return join(dir, "go");
  return "go (not on PATH)";
};
const step = (title, cmd, args) => {
  console.log(`\n=== ${title}`);
  execFileSync(cmd, args, { cwd: root, stdio: "inherit" });
};

// The Python and Go generators and test tools (pinned, into .tools/): the first run on a fresh
// clone installs them (about a minute), later runs find them in about a second.
step("system packages (scripts/install-system-tools.sh)", "bash", [join(root, "scripts/install-system-tools.sh")]);
step("tools for the Python and Go clients (scripts/install-tools.sh)", "bash", [join(root, "scripts/install-tools.sh")]);
// The telemetry test's collector (cached in .tools; the first build compiles its Go modules: minutes).
step("OpenTelemetry Collector (scripts/build-otelcol.sh)", "bash", [join(root, "scripts/build-otelcol.sh")]);
step("lint + format check (biome: biome.jsonc)", process.execPath, [join(root, "node_modules/@biomejs/biome/bin/biome"), "ci", "--colors=off", "."]);
step("buf lint + gen drift", process.execPath, [join(root, "scripts/generate.mjs"), "--check"]);
step("build (tsc, strict)", process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
step("bundle the CLI", process.execPath, [join(root, "scripts/bundle-cli.mjs")]);
step("typecheck the web page (client/web, DOM types)", process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "client/web/tsconfig.json"]);
step("bundle the web page", process.execPath, [join(root, "scripts/bundle-web.mjs")]);
step("config JSON Schema drift", process.execPath, [join(root, "scripts/config-schema.mjs"), "--check"]);

const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".test.js")) files.push(relative(root, p));
  }
};
walk(join(root, "dist/test"));
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
console.log(`\n=== node --test (${selected.length} files)`);
// One test file at a time (what node picks anyway on a 2-core machine, made explicit): the few
// wall-clock bounds in the tests (stop.test.ts: a slow stop never delays the others) then hold
// on any machine, and a file's daemons never compete with another file's.
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=spec", "--test-timeout=180000", ...selected.sort()], {
  cwd: root,
  stdio: "inherit",
});
// A run narrowed to some node test files stops here; the whole suite goes on with the Python
// and Go clients against the real daemon (tools from scripts/install-tools.sh).
if (only.length) process.exit(result.status ?? 1);
const failed = [];
if (result.status !== 0) failed.push("node --test");
// This checkout's Python package first, whatever the (possibly shared) venv's editable install points at.
const env = { ...process.env, PYTHONPATH: [join(root, "client/python/src"), process.env.PYTHONPATH].filter(Boolean).join(":") };
const clientSuite = (title, cmd, args, cwd) => {
  console.log(`\n=== ${title}`);
  if (!existsSync(cmd)) {
    console.error(`${relative(root, cmd)} is missing: run scripts/install-tools.sh`);
    failed.push(title);
    return;
  }
  const run = spawnSync(cmd, args, { cwd: join(root, cwd), stdio: "inherit", env });
  if (run.status !== 0) failed.push(title);
};
clientSuite("pytest (client/python)", join(root, ".tools/venv/bin/python"), ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], "client/python");
// The Python package's dependency ranges at both ends (oldest pins, newest releases incl.
// protobuf 7), venvs cached in .tools/python-ranges: about 30 s once installed.
clientSuite(
  "python dependency ranges (client/python/check_dependency_ranges.py)",
  join(root, ".tools/venv/bin/python"),
  ["check_dependency_ranges.py"],
  "client/python",
);
clientSuite("go test (client/go)", goBinary(), ["test", "-count=1", "./..."], "client/go");
if (failed.length) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
