#!/usr/bin/env node
// Regenerates gen/ts and the clients' v1/ from proto/ with local plugins only; with --check,
// regenerates into a temporary directory and fails when the committed files differ (drift).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// buf's own npm wrapper lists every platform's binary as an optional dependency, and npm ci
// insists on all of them in the lock file; we depend on the Linux ones directly instead.
const buf = join(root, "node_modules", "@bufbuild", `buf-linux-${process.arch === "arm64" ? "aarch64" : "x64"}`, "bin", "buf");
const check = process.argv.includes("--check");
const lintOnly = process.argv.includes("--lint-only");
// The directories buf.gen.yaml writes (its `out`s): generated code only. The Python and Go
// clients' hand-written layers live beside their v1/ (client/python, client/go).
const generatedDirs = ["gen/ts", "client/python/src/corral_client/v1", "client/go/v1"];
// The local plugins that scripts/install-tools.sh puts in .tools/ (pinned versions).
const requiredTools = [".tools/venv/bin/python", ".tools/bin/protoc-gen-go", ".tools/bin/protoc-gen-go-grpc"];

function run(args) {
  execFileSync(buf, args, { cwd: root, stdio: "inherit" });
}

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  try {
    walk(dir);
  } catch {
    return [];
  }
  return out.sort();
}

run(["lint"]);
if (lintOnly) process.exit(0);
const missing = requiredTools.filter((tool) => !existsSync(join(root, tool)));
if (missing.length > 0) {
  console.error(`missing code generators: ${missing.join(", ")}`);
  console.error("run scripts/install-tools.sh (installs them into .tools/ at pinned versions), then retry");
  process.exit(1);
}
if (!check) {
  run(["generate"]);
  process.exit(0);
}
const outDir = mkdtempSync(join(tmpdir(), "corral-gen-"));
try {
  run(["generate", "--output", outDir]);
  const drift = [];
  for (const dir of generatedDirs) {
    const fresh = listFiles(join(outDir, dir));
    const committed = listFiles(join(root, dir));
    const all = new Set([...fresh, ...committed]);
    for (const file of all) {
      const a = fresh.includes(file) ? readFileSync(join(outDir, dir, file)) : null;
      const b = committed.includes(file) ? readFileSync(join(root, dir, file)) : null;
      if (a === null) drift.push(`${dir}/${file}: committed but no longer generated`);
      else if (b === null) drift.push(`${dir}/${file}: generated but not committed`);
      else if (!a.equals(b)) drift.push(`${dir}/${file}: differs from a fresh generation`);
    }
  }
  if (drift.length > 0) {
    console.error("generated code has drifted from proto/ (run `npm run generate` and commit):");
    for (const line of drift) console.error(`  ${line}`);
    process.exit(1);
  }
  console.log("generated code is up to date with proto/; buf lint is clean");
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
