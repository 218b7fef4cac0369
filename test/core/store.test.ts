// The daemon's on-disk state: the state file is replaced atomically and a damaged one is moved
// aside and reported; the journal file keeps seqs across restarts, skips a torn line and compacts.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LogFile } from "../../server/core/events/log-file.js";
import { EventJournal, journalCodec } from "../../server/core/process/journal.js";
import { SpawnLog } from "../../server/core/store/spawn-log.js";
import { StateStore, type SavedState } from "../../server/core/store/state-store.js";
import { tempHome } from "../helpers/core.js";

function state(n: number): SavedState {
  return {
    version: 1,
    savedAt: new Date().toISOString(),
    bootId: "b",
    daemonPid: n,
    programs: { a: { desired: "stopped", state: "STOPPED", stateReason: "", restarts: n, retryPending: false } },
  };
}

test("the state file is replaced whole, leaves no temp file, and reads back", () => {
  const { home, remove } = tempHome();
  try {
    let n = 1;
    const store = new StateStore(join(home, "state.json"), () => state(n));
    store.saveNow();
    n = 2;
    store.saveNow();
    assert.deepEqual(readdirSync(home), ["state.json"]);
    assert.equal(new StateStore(join(home, "state.json"), () => state(0)).load().state?.programs.a.restarts, 2);
  } finally {
    remove();
  }
});

test("saveDurably settles once the state as of the call is on disk; calls before its save begins share one write", async () => {
  const { home, remove } = tempHome();
  try {
    let n = 1;
    let snapshots = 0;
    const store = new StateStore(join(home, "state.json"), () => {
      snapshots++;
      return state(n);
    });
    const read = () => new StateStore(join(home, "state.json"), () => state(0)).load().state?.programs.a.restarts;
    await store.saveDurably();
    assert.equal(read(), 1);
    n = 2;
    const first = store.saveDurably();
    n = 3;
    const second = store.saveDurably();
    await Promise.all([first, second]);
    assert.equal(read(), 3);
    assert.equal(snapshots, 2, "the two calls before the save began were one write");
    assert.deepEqual(readdirSync(home), ["state.json"], "no temp file is left");
  } finally {
    remove();
  }
});

test("a truncated or malformed state file is reported, moved aside, and loading goes on without it", () => {
  const { home, remove } = tempHome();
  try {
    const path = join(home, "state.json");
    for (const bad of [
      '{"version":1,"savedAt":"x","boo',
      '{"version":1,"savedAt":"x","bootId":"b","daemonPid":1,"programs":{"a":{"desired":"maybe"}}}',
      "\u0000\u0001",
    ]) {
      writeFileSync(path, bad);
      const loaded = new StateStore(path, () => state(0)).load();
      assert.equal(loaded.state, undefined);
      assert.match(loaded.problem ?? "", /is unusable .* moved to .*corrupt/);
      assert.ok(!existsSync(path));
    }
    assert.deepEqual(new StateStore(path, () => state(0)).load(), {}, "no file: a first start, no problem");
  } finally {
    remove();
  }
});

test("the journal file restores seqs after a restart, skips a torn last line, and compacts to the last events", () => {
  const { home, remove } = tempHome();
  try {
    const path = join(home, "events.jsonl");
    const journal = new EventJournal(10);
    const file = new LogFile(path, journalCodec, journal.limits);
    journal.setSink((event) => file.append(event, () => journal.recent()));
    for (let i = 0; i < 25; i++) journal.append("p", i, { kind: "server", message: `m${i}` });
    file.close();
    // 20 lines triggered a compaction to 10; 5 more were appended.
    assert.equal(readFileSync(path, "utf8").split("\n").length - 1, 15);
    writeFileSync(path, `${readFileSync(path, "utf8")}{"seq":26,"ti`);

    const again = new EventJournal(10);
    const loaded = new LogFile(path, journalCodec, again.limits).load();
    assert.equal(loaded.skipped, 1);
    again.restore(loaded.items);
    assert.equal(again.firstAvailableSeq, 16);
    assert.equal(again.lastSeq, 25);
    assert.equal(again.append("p", 0, { kind: "server", message: "after" }).seq, 26);
  } finally {
    remove();
  }
});

test("a background save keeps spawn-log lines logged after its snapshot, and never replaces a newer synchronous save", async () => {
  const { home, remove } = tempHome();
  try {
    const path = join(home, "state.json");
    const spawnLog = new SpawnLog(join(home, "spawns.jsonl"), "b");
    let n = 1;
    const store = new StateStore(
      path,
      () => state(n),
      undefined,
      (mark) => spawnLog.clear(mark),
      () => spawnLog.appended,
    );
    const restarts = () => new StateStore(path, () => state(0)).load().state?.programs.a.restarts;
    const runIds = () => spawnLog.load().map((entry) => entry.runId);

    // The background save has taken its snapshot and is writing when the loop turns.
    store.saveSoon();
    await new Promise((resolve) => setImmediate(resolve));
    spawnLog.intent("a", 7, { stdout: 0, stderr: 0 });
    await store.settled();
    assert.equal(restarts(), 1);
    assert.deepEqual(runIds(), [7], "a line logged after the snapshot is not covered by it: it stays");

    n = 2;
    store.saveSoon();
    await new Promise((resolve) => setImmediate(resolve));
    n = 3;
    store.saveNow();
    assert.deepEqual(runIds(), [], "the synchronous save covers every line");
    await store.settled();
    assert.equal(restarts(), 3, "the older background save, finishing last, is dropped");
    assert.deepEqual(readdirSync(home).sort(), ["spawns.jsonl", "state.json"], "no temp file is left");
    spawnLog.close();
  } finally {
    remove();
  }
});
