#!/usr/bin/env node
// The whole test suite, as README and .ci/run call it: proto lint + generated-code drift,
// typecheck/build, then every test file under dist/test with node's own test runner.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const step = (title, cmd, args) => {
  console.log(`\n=== ${title}`);
  execFileSync(cmd, args, { cwd: root, stdio: "inherit" });
};

step("buf lint + gen drift", process.execPath, [join(root, "scripts/generate.mjs"), "--check"]);
step("build (tsc, strict)", process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
step("bundle the CLI", process.execPath, [join(root, "scripts/bundle-cli.mjs")]);

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
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...selected.sort()], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
