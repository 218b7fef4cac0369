// checkSpawnable remembers where a bare command was found on PATH; the answer must stay the one
// a full search of PATH gives when that file goes away or stops being executable.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkSpawnable } from "../../server/core/os/spawnable.js";
import { tempHome } from "../helpers/core.js";

test("a command found on PATH before is searched for again once it is gone or not executable", () => {
  const { home, remove } = tempHome();
  try {
    const first = join(home, "a");
    const second = join(home, "b");
    mkdirSync(first);
    mkdirSync(second);
    const env = { PATH: `${first}:${second}` };
    const tool = join(second, "tool");
    writeFileSync(tool, "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(checkSpawnable(home, "tool", env), undefined);
    chmodSync(tool, 0o644);
    assert.equal(checkSpawnable(home, "tool", env)?.errno, "EACCES", "no x bit: refused even for root");
    rmSync(tool);
    assert.equal(checkSpawnable(home, "tool", env)?.errno, "ENOENT");
    // Found again elsewhere on PATH.
    writeFileSync(join(first, "tool"), "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(checkSpawnable(home, "tool", env), undefined);
    rmSync(join(first, "tool"));
    assert.match(checkSpawnable(home, "tool", env)?.message ?? "", /not found on PATH/);
  } finally {
    remove();
  }
});
