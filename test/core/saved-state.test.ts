// The state document built from kept per-program records (SavedStateText) says exactly what one
// built whole (savedStateOf) says, through starts, exits, stops and a shutdown's frozen word.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EventJournal } from "../../server/core/process/journal.js";
import type { Program } from "../../server/core/process/program.js";
import { ProgramSet } from "../../server/core/process/program-set.js";
import { SavedStateText, savedStateOf, type SnapshotOptions } from "../../server/core/process/saved-state.js";
import type { SavedState } from "../../server/core/store/state-store.js";
import { program, sh, tempHome, waitUntil } from "../helpers/core.js";

/** The document without its save time (the one field two builds never share). */
function withoutTime(state: SavedState): Omit<SavedState, "savedAt"> {
  const { savedAt: _, ...rest } = state;
  return rest;
}

test("the state text built from kept records equals the state built whole, after every change", async () => {
  const { home, remove } = tempHome();
  let runId = 0;
  const set = new ProgramSet(() => ({ journal: new EventJournal(), nextRunId: () => ++runId, logDir: home, hostName: "test", watchExit: () => undefined }));
  set.add(program("up", ["sleep", "30"]));
  set.add(program("fails", sh("exit 3")));
  set.add(program("never", ["sleep", "30"]));
  set.add(program("adhoc", ["sleep", "30"]), { command: ["sleep", "30"] });
  const programs = (): Program[] => [...set.values()];
  const text = new SavedStateText();
  const same = (step: string, options: SnapshotOptions = { bootId: "boot" }) =>
    assert.deepEqual(
      withoutTime(JSON.parse(text.of(programs(), options)) as SavedState),
      withoutTime(JSON.parse(JSON.stringify(savedStateOf(programs(), options))) as SavedState),
      step,
    );
  try {
    same("configured, never run");
    set.get("up").start();
    set.get("fails").start();
    same("spawned");
    await waitUntil(() => set.get("fails").state === "EXITED" && set.get("up").state === "RUNNING", 10_000, "one up, one exited");
    same("one running, one exited with its code");
    set.get("adhoc").noteIntent("start");
    same("a start intent noted");
    set.get("adhoc").start();
    await waitUntil(() => set.get("adhoc").state === "RUNNING", 10_000, "the ad-hoc program RUNNING");
    same("the ad-hoc program running");
    const shutdown: SnapshotOptions = {
      bootId: "boot",
      frozenDesired: new Map(programs().map((p) => [p.name, p.desired])),
      upAtShutdown: new Set(["up"]),
    };
    same("shutdown began: the user's word frozen", shutdown);
    await set.get("up").stop();
    same("stopped by the shutdown", shutdown);
    same("the same programs, saved outside a shutdown");
    await set.get("adhoc").stop();
    same("stopped by a user");
  } finally {
    for (const p of programs()) if (p.isActive()) await p.stop();
    remove();
  }
});
