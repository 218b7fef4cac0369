// A bulk start's state saves: the intent before the first spawn, then one save for all the
// spawns (each spawn's state changes used to save every program again: ~70 saves per 500).
import assert from "node:assert/strict";
import { watch } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { StateStore, type SavedState } from "../../server/core/store/state-store.js";
import { program, startManager, tempHome } from "../helpers/core.js";

test("a start-all of 30 programs writes the state file at most three times while it spawns them", async () => {
  const programs = Array.from({ length: 30 }, (_, i) => program(`p${i}`, ["sleep", "300"]));
  const fixture = startManager(programs);
  const stateDir = join(fixture.home, "state");
  let saves = 0;
  const watcher = watch(stateDir, (event, file) => {
    if (event === "rename" && file === "state.json") saves++;
  });
  try {
    // Saves from the manager's own start-up are done before counting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    saves = 0;
    const results = await fixture.manager.startAll(undefined, { wait: "running" });
    assert.equal(results.filter((r) => r.ok).length, 30);
    await fixture.manager.persistence.saveDurably();
    // Let the watcher see the last renames.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The intent (before the first spawn), the one held save after the last spawn, and saveDurably's.
    assert.ok(saves >= 1 && saves <= 3, `state.json written ${saves} times`);
  } finally {
    watcher.close();
    await fixture.close();
  }
});

function state(n: number): SavedState {
  return { version: 1, savedAt: new Date().toISOString(), bootId: "b", daemonPid: n, programs: {} };
}

test("while saves are held saveSoon writes nothing; the release writes the latest state once; saveNow is never held", async () => {
  const { home, remove } = tempHome();
  try {
    let n = 1;
    let snapshots = 0;
    const path = join(home, "state.json");
    // With a mark, saveSoon saves in the background (as the daemon's store does).
    const store = new StateStore(
      path,
      () => {
        snapshots++;
        return state(n);
      },
      undefined,
      () => undefined,
      () => 0,
    );
    const read = () => new StateStore(path, () => state(0)).load().state?.daemonPid;
    const release = store.hold();
    for (n = 1; n <= 5; n++) {
      store.saveSoon();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.settled();
    assert.equal(snapshots, 0, "nothing saved while held");
    n = 6;
    store.saveNow();
    assert.equal(read(), 6, "saveNow writes at once");
    n = 7;
    release();
    release(); // a second call is harmless
    await new Promise((resolve) => setImmediate(resolve));
    await store.settled();
    assert.equal(read(), 7);
    assert.equal(snapshots, 2, "saveNow's and one after the release");
  } finally {
    remove();
  }
});
