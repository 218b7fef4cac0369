// Specification of Program.restore(), the one way state changes outside transition(): what a
// previous daemon left comes back, and the change is published like a transition (from STOPPED,
// as created, to the restored state) before the run's own transitions follow.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProcessManager } from "../../server/core/process/manager.js";
import type { JournalEvent } from "../../server/core/store/journal.js";
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
