// The spawn log and its merge into the saved state: a torn last line is skipped, entries older
// than the saved run or of another boot change nothing, a logged spawn becomes the current run,
// and an intent with no pid and no process found is an EXITED run with its status unknown.
import assert from "node:assert/strict";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { mergeSpawnLog } from "../../server/core/process/spawn-recovery.js";
import { SpawnLog } from "../../server/core/store/spawn-log.js";
import type { SavedState } from "../../server/core/store/state-store.js";
import { tempHome } from "../helpers/core.js";

const BOOT = "this-boot";
// Run ids no process on this machine carries in CORRAL_RUN_ID.
const BASE = 900_000_000 + Math.floor(Math.random() * 1_000_000);

function saved(runId: number): SavedState {
  return {
    version: 1,
    savedAt: new Date().toISOString(),
    bootId: BOOT,
    daemonPid: 1,
    programs: {
      a: {
        desired: "running",
        state: "RUNNING",
        stateReason: "",
        restarts: 0,
        retryPending: false,
        run: { runId, pid: 4242, pidStartTicks: 7, startedAt: new Date().toISOString(), stdoutStart: 0, stderrStart: 0 },
      },
    },
  };
}

test("the spawn log reads back what was appended, skips a torn last line, and is empty after clear()", () => {
  const { home, remove } = tempHome();
  try {
    const path = join(home, "spawns.jsonl");
    const log = new SpawnLog(path, BOOT);
    log.intent("a", 5, { stdout: 10, stderr: 20 });
    log.spawned("a", 5, 1234, 99);
    appendFileSync(path, '{"kind":"intent","prog');
    const next = new SpawnLog(path, BOOT);
    assert.deepEqual(
      next.load().map((e) => `${e.kind} ${e.program} ${e.runId}`),
      ["intent a 5", "spawned a 5"],
    );
    next.intent("c", 7, { stdout: 0, stderr: 0 });
    assert.deepEqual(
      new SpawnLog(path, BOOT).load().map((e) => e.program),
      ["a", "a", "c"],
      "a new daemon's first entry is not glued to the torn line",
    );
    next.close();
    log.clear();
    log.intent("b", 6, { stdout: 0, stderr: 0 });
    assert.deepEqual(
      new SpawnLog(path, BOOT).load().map((e) => e.program),
      ["b"],
      "appends after a clear start at the new end",
    );
    log.close();
  } finally {
    remove();
  }
});

test("merging: a spawn after the save becomes the current run; older spawns and other boots change nothing", () => {
  const intent = (program: string, runId: number, bootId = BOOT) => ({
    kind: "intent" as const,
    program,
    runId,
    time: "2026-01-01T00:00:00.000Z",
    bootId,
    stdoutStart: 3,
    stderrStart: 4,
  });
  const older = mergeSpawnLog(
    saved(BASE + 10),
    [intent("a", BASE + 9), { kind: "spawned", program: "a", runId: BASE + 9, pid: 1, pidStartTicks: 1 }],
    BOOT,
    "/nonexistent-home",
  );
  assert.equal(older.state?.programs.a.run?.runId, BASE + 10, "the save came after that spawn");
  assert.deepEqual(older.notes, []);

  const newer = mergeSpawnLog(
    saved(BASE + 10),
    [intent("a", BASE + 11), { kind: "spawned", program: "a", runId: BASE + 11, pid: 5555, pidStartTicks: 66 }],
    BOOT,
    "/nonexistent-home",
  );
  const run = newer.state?.programs.a.run;
  assert.deepEqual([run?.runId, run?.pid, run?.pidStartTicks, run?.stdoutStart, run?.exitedAt], [BASE + 11, 5555, 66, 3, undefined]);
  assert.equal(newer.state?.programs.a.state, "STARTING");
  assert.match(newer.notes.join("\n"), /recovered from the spawn log/);

  const otherBoot = mergeSpawnLog(saved(BASE + 10), [intent("a", BASE + 11, "old-boot")], BOOT, "/nonexistent-home");
  assert.equal(otherBoot.state?.programs.a.run?.runId, BASE + 10);
});

test("merging: an intent with no pid logged and no process with its CORRAL_RUN_ID is an EXITED run, status unknown; no saved state is fine", () => {
  const merged = mergeSpawnLog(
    undefined,
    [{ kind: "intent", program: "b", runId: BASE + 20, time: "2026-01-01T00:00:00.000Z", bootId: BOOT, stdoutStart: 0, stderrStart: 0 }],
    BOOT,
    "/nonexistent-home",
  );
  const record = merged.state?.programs.b;
  assert.equal(record?.state, "EXITED");
  assert.equal(record?.run?.pid, 0);
  assert.match(record?.run?.exitStatusUnknown ?? "", /died while spawning it, and no process of the run was found/);
  assert.equal(merged.state?.bootId, BOOT);
});
