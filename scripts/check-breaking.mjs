#!/usr/bin/env node
// `buf breaking` of proto/ against the main branch: a released corral.v1 only grows (new
// fields, messages, RPCs); a breaking change goes into a new package (corral.v2) instead.
// Skipped, saying why, where the clone has no main ref (shallow CI clones, detached checkouts).
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const buf = join(root, "node_modules", "@bufbuild", `buf-linux-${process.arch === "arm64" ? "aarch64" : "x64"}`, "bin", "buf");

function hasRef(ref) {
  return spawnSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: root, stdio: "ignore" }).status === 0;
}

const against = hasRef("refs/heads/main") ? ".git#branch=main" : hasRef("refs/remotes/origin/main") ? ".git#ref=refs/remotes/origin/main" : null;
if (!against) {
  console.log("check:breaking skipped: this clone has no `main` ref (local or origin/main) to compare proto/ against");
  process.exit(0);
}
const onMain = spawnSync("git", ["ls-tree", "-d", "--name-only", hasRef("refs/heads/main") ? "main" : "origin/main", "proto/corral"], {
  cwd: root,
  encoding: "utf8",
});
if (!onMain.stdout?.trim()) {
  console.log("check:breaking skipped: main has no proto/corral yet (nothing released to break)");
  process.exit(0);
}
try {
  execFileSync(buf, ["breaking", "--against", against], { cwd: root, stdio: "inherit" });
} catch {
  console.error("proto/ breaks the released API on main: add fields/messages/RPCs instead, or put the change in a new package (corral.v2)");
  process.exit(1);
}
console.log(`buf breaking: proto/ is compatible with ${against}`);
