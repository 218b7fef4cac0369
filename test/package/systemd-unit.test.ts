// examples/systemd/corral.service is a unit systemd accepts: `systemd-analyze verify` on it (with
// ExecStart pointed at this checkout's bin/corral.js and the service user made root, both of
// which verify checks exist here). Skipped, saying why, where systemd-analyze is missing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "../helpers/daemon.js";

const run = promisify(execFile);
const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((path) => existsSync(path));

test("examples/systemd/corral.service: Type=exec, SIGHUP reload, programs outlive the daemon, and systemd-analyze verify accepts it", async (t) => {
  const unit = await readFile(join(repoRoot, "examples/systemd/corral.service"), "utf8");
  assert.match(unit, /^Type=exec$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  assert.match(unit, /^KillMode=process$/m);
  assert.match(unit, /^ExecStart=\/usr\/bin\/corral server /m);
  if (!analyze) {
    t.skip("systemd-analyze is not installed (apt-get install systemd)");
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "corral-unit-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const local = unit
    .replace(/^ExecStart=\/usr\/bin\/corral /m, `ExecStart=${process.execPath} ${join(repoRoot, "bin/corral.js")} `)
    .replace(/^User=corral$/m, "User=root")
    .replace(/^Group=corral$/m, "Group=root");
  const file = join(dir, "corral.service");
  await writeFile(file, local);
  const { stdout, stderr } = await run(analyze, ["verify", file]).catch((error: { stdout: string; stderr: string; code: number }) => {
    assert.fail(`systemd-analyze verify failed (exit ${error.code}):\n${error.stderr}${error.stdout}`);
  });
  assert.doesNotMatch(stderr + stdout, /corral\.service/, `systemd-analyze warned about the unit:\n${stderr}${stdout}`);
});
