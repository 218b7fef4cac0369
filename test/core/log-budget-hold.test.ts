// Specification of LogBudget.hold (server.logs.max_total): while a round of drops is due or under
// way, rotation steps wait for it (so the files outside the round make no backups it does not
// see: README "How much disk"); the wait ends with the round, and a round that fails releases it
// (rotation must not stop with the cap). The files here are stand-ins for LogFile with only what
// the budget calls, so that a test can hold a round open exactly as long as it needs; the
// end-to-end test with real writers is test/rpc/log-total-cap.test.ts.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { type BackupUsage, type DroppedLog, LogBudget } from "../../server/core/process/log-budget.js";
import type { LogFile } from "../../server/core/process/log-file.js";

const CAP = 1000;

/** A file of `current` bytes and backups of 400 bytes; its drops wait for `gate` when one is set. */
class StandIn {
  backups: BackupUsage[] = [0, 400, 800].map((start) => ({ start, size: 400, mtimeMs: start }));
  current = 100;
  gate?: Promise<void>;
  failUsage = false;
  dropsStarted = 0;

  async diskUsage(): Promise<{ current: number; backups: BackupUsage[] }> {
    if (this.failUsage) throw new Error("EIO: the disk said no");
    return { current: this.current, backups: [...this.backups] };
  }

  async dropOldestBackup(): Promise<DroppedLog | undefined> {
    this.dropsStarted++;
    if (this.gate) await this.gate;
    const oldest = this.backups.shift();
    return oldest && { path: "stand-in", bytes: oldest.size, fromOffset: oldest.start, toOffset: oldest.start + oldest.size };
  }

  async dropCurrent(): Promise<DroppedLog | undefined> {
    return undefined;
  }
}

// The budget's own immediates and timers are unref'd (they must not keep a daemon alive), so
// without something else in the event loop a test's awaits would end the process before them.
const keepAlive = setInterval(() => undefined, 60_000);
after(() => clearInterval(keepAlive));

function budgetOver(file: StandIn): LogBudget {
  return new LogBudget({ maxTotalBytes: CAP, files: () => [file as unknown as LogFile], report: () => undefined });
}

/** Settles when `condition` holds, checked once per turn of the event loop (no timer). */
async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`${what} did not happen within 10000 turns of the event loop`);
}

test("rotation steps wait while a round of drops runs, and go on when it ends", { timeout: 10_000 }, async () => {
  const file = new StandIn();
  let open!: () => void;
  file.gate = new Promise((resolve) => (open = resolve));
  const budget = budgetOver(file);
  try {
    assert.equal(budget.hold(), undefined, "nothing is due before any growth was seen");
    budget.noteGrowth(file as unknown as LogFile);
    await turnsUntil(() => file.dropsStarted > 0, "the round's first drop");
    const held = budget.hold();
    assert.ok(held, "a round under way holds rotation steps");
    assert.equal(budget.hold(), held, "every step waits for the same round");
    let released = false;
    void held.then(() => (released = true));
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(released, false, "the wait lasts as long as the round");
    open();
    await held;
    // 1300 bytes against 1000: the oldest backup went, nothing more was due.
    assert.equal(file.backups.length, 2);
    assert.equal(budget.hold(), undefined, "under the cap again, nothing waits");
  } finally {
    budget.close();
  }
});

test("a round that fails releases the rotation steps that wait for it", { timeout: 10_000 }, async () => {
  const file = new StandIn();
  let open!: () => void;
  file.gate = new Promise((resolve) => (open = resolve));
  const budget = budgetOver(file);
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on("warning", onWarning);
  try {
    budget.noteGrowth(file as unknown as LogFile);
    await turnsUntil(() => file.dropsStarted > 0, "the round's first drop");
    const held = budget.hold();
    assert.ok(held);
    // The next round's count fails: its waiters must not wait for the retry.
    file.failUsage = true;
    budget.noteGrowth(file as unknown as LogFile);
    open();
    await held;
    await turnsUntil(() => warnings.some((w) => w.includes("EIO")), "the failure's warning");
    assert.equal(budget.hold(), undefined, "after a failed round, rotation is not held (the retry comes in 1 s)");
  } finally {
    process.off("warning", onWarning);
    budget.close();
  }
});

test("closing the budget releases what waits", { timeout: 10_000 }, async () => {
  const file = new StandIn();
  file.gate = new Promise(() => undefined);
  const budget = budgetOver(file);
  budget.noteGrowth(file as unknown as LogFile);
  await turnsUntil(() => file.dropsStarted > 0, "the round's first drop");
  const held = budget.hold();
  assert.ok(held);
  budget.close();
  await held;
});
