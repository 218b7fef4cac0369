// Specification of Program.restore(), the one way state changes outside transition(): what a
// previous daemon left comes back, and the change is published like a transition (from STOPPED,
// as created, to the restored state) before the run's own transitions follow.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { configReader } from "../../server/config/reader.js";
import { ProcessManager } from "../../server/core/process/manager.js";
import type { JournalEvent } from "../../server/core/process/journal.js";
import { isAlive, program, sh, tempHome, waitForState } from "../helpers/core.js";

/** The program's state changes after seq, as "FROM->TO reason". */
function stateChanges(manager: ProcessManager, name: string, afterSeq: number): string[] {
  return manager.journal
    .since(afterSeq)
    .filter((event: JournalEvent) => event.program === name && event.detail.kind === "stateChanged")
    .map((event) => (event.detail.kind === "stateChanged" ? `${event.detail.from}->${event.detail.to} ${event.detail.reason}` : ""));
}

test("a run adopted by the next daemon is published STOPPED->UNKNOWN (restored) then UNKNOWN->RUNNING; a finished program STOPPED->EXITED", async () => {
  const { home, remove } = tempHome();
  const programs = [program("sleeper", sh("sleep 30")), program("oneshot", sh("exit 3"))];
  let second: ProcessManager | undefined;
  let pid = 0;
  try {
    const first = new ProcessManager({ home, programs });
    await first.start("sleeper");
    await first.start("oneshot", { wait: "none" });
    await waitForState(first, "oneshot", "EXITED");
    pid = first.get("sleeper").run?.pid ?? 0;
    await first.shutdown({ keepProcesses: true });
    assert.ok(isAlive(pid), "left running for the next daemon");

    second = new ProcessManager({ home, programs });
    const sleeper = stateChanges(second, "sleeper", 0);
    const restoredAt = sleeper.findIndex((change) => change.startsWith("STOPPED->UNKNOWN restored: run "));
    assert.ok(restoredAt >= 0, `the restore is published: ${sleeper.join(" | ")}`);
    assert.match(sleeper[restoredAt + 1] ?? "", /^UNKNOWN->RUNNING re-adopted pid \d+/, "then the adoption, as a transition");
    assert.equal(second.get("sleeper").run?.pid, pid);
    const oneshot = stateChanges(second, "oneshot", 0);
    assert.match(oneshot.at(-1) ?? "", /^STOPPED->EXITED restored: exited with code 3/, `a finished program comes back as it was: ${oneshot.join(" | ")}`);
    assert.equal(second.get("oneshot").state, "EXITED");
    assert.equal(second.get("oneshot").run?.exitCode, 3);
  } finally {
    await second?.shutdown();
    // Should the second manager not have taken it over, the run is still ours to stop.
    if (pid > 0 && isAlive(pid)) process.kill(-pid, "SIGKILL");
    remove();
  }
});

test("a saved ad-hoc program is checked again by the config's schema: a valid one is re-created, a hand-broken one is reported and not", async () => {
  const { home, remove } = tempHome();
  const liveConfig = { allowAdhoc: true, reader: configReader };
  let second: ProcessManager | undefined;
  try {
    const first = new ProcessManager({ home, programs: [], liveConfig });
    await first.createProgram("good", { command: "true", labels: { made: "adhoc" } });
    await first.createProgram("broken", { command: "true" });
    await first.shutdown();
    const statePath = join(home, "state", "state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8")) as { programs: Record<string, { adhocProgram?: Record<string, unknown> }> };
    assert.deepEqual(
      state.programs.good?.adhocProgram,
      { command: "true", labels: { made: "adhoc" }, cwd: home },
      "saved as a config file holds it, cwd absolute",
    );
    state.programs.broken!.adhocProgram = { command: "true", startsecs: "soon" };
    writeFileSync(statePath, JSON.stringify(state));

    second = new ProcessManager({ home, programs: [], liveConfig });
    assert.deepEqual(
      second.list().map((p) => [p.name, p.adhoc, p.config.labels]),
      [["good", true, { made: "adhoc" }]],
    );
    assert.ok(
      second.persistence.problems.some((problem) => /ad-hoc program "broken" .* not re-created: .*startsecs: bad duration "soon"/.test(problem)),
      second.persistence.problems.join("\n"),
    );
  } finally {
    await second?.shutdown();
    remove();
  }
});
