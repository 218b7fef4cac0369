// One listing of the log directory serves every stream that asks together, and no caller is
// given a listing issued before its call (it would miss a rotation that had just finished).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { scanLogDirectory } from "../../server/core/process/log-dir-scan.js";
import { listBackups } from "../../server/core/process/log-segments.js";
import { tempHome } from "../helpers/core.js";

const offset = (n: number) => String(n).padStart(20, "0");

test("streams asking together share one listing of the log directory, grouped by stream", async () => {
  const { home, remove } = tempHome();
  try {
    for (const name of [
      "a.stdout.log",
      `a.stdout.log.${offset(0)}`,
      `a.stdout.log.${offset(9)}.partial`,
      "b.stderr.log",
      `b.stderr.log.${offset(4)}`,
      ".a.stdout.meta.json",
    ]) {
      writeFileSync(join(home, name), "x");
    }
    const asked = Array.from({ length: 100 }, () => scanLogDirectory(home));
    const listings = await Promise.all(asked);
    assert.ok(
      listings.every((listing) => listing === listings[0]),
      "one readdir for all",
    );
    assert.deepEqual([...(listings[0].get("a.stdout.log") ?? [])].sort(), [`a.stdout.log.${offset(0)}`, `a.stdout.log.${offset(9)}.partial`]);
    assert.deepEqual(listings[0].get("b.stderr.log"), [`b.stderr.log.${offset(4)}`]);
    const a = await listBackups(join(home, "a.stdout.log"));
    assert.deepEqual(
      a.backups.map((b) => b.start),
      [0],
    );
    assert.deepEqual(a.partials, [join(home, `a.stdout.log.${offset(9)}.partial`)]);
  } finally {
    remove();
  }
});

test("a listing asked for while one is in flight is a new one, and sees what changed before the call", async () => {
  const { home, remove } = tempHome();
  try {
    writeFileSync(join(home, "a.stdout.log"), "");
    const first = scanLogDirectory(home);
    // Let the first listing be issued, then rotate (a new backup) and ask again at once.
    await new Promise<void>((resolve) => setImmediate(resolve));
    writeFileSync(join(home, `a.stdout.log.${offset(7)}`), "rotated");
    const second = scanLogDirectory(home);
    assert.notEqual(await first, await second);
    assert.deepEqual((await second).get("a.stdout.log"), [`a.stdout.log.${offset(7)}`]);
    assert.deepEqual(
      (await listBackups(join(home, "a.stdout.log"))).backups.map((b) => b.size),
      [7],
    );
  } finally {
    remove();
  }
});
