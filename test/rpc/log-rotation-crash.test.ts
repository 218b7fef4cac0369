// End-to-end specification of a daemon killed with SIGKILL inside a log rotation (issue 13): a
// failpoint (server/core/failpoints.ts) kills it at each phase while a writer keeps writing; the
// next daemon finishes or undoes the rotation, and every byte is read back at its offset. And the
// fallocate helper (log-fallocate-helper.ts) dying under a collapse, before or after the cut, or
// under the copy of a head into its backup.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { StartWait } from "../../client/ts/index.js";
import { LINE_BYTES } from "../fixtures/log-writer.js";
import { journalEvents, serverMessages, type TestDaemon } from "../helpers/daemon.js";
import { expectedLines, readAll, runToExit, writerProgram } from "../helpers/logs.js";
import { inSharedHome, type SharedHome } from "../helpers/shared-home.js";

for (const phase of ["copied", "marked", "cut", "committed"]) {
  test(`kill -9 of the daemon in a rotation (${phase}): the next daemon finishes or undoes it; nothing lost, offsets true`, async () => {
    await inSharedHome(async ({ home, owned, start }) => {
      const programs = { firehose: writerProgram(["lines", "20000"], { max_bytes: "64KiB", backups: 100 }) };
      const first = await start({ programs, env: { CORRAL_FAILPOINTS: `log-rotation-${phase}` }, readyTimeoutMs: 60_000 });
      // The reply may not make it: the daemon can die first (the writer then ends on its own).
      const started = await first.client.processManager.startProcess({ name: "firehose", wait: StartWait.RUNNING }).catch(() => undefined);
      if (started?.process) owned.add([started.process]);
      assert.equal((await first.exited).signal, "SIGKILL", "the failpoint killed the daemon inside the rotation");
      await first.stop();
      const meta = JSON.parse(readFileSync(join(home, "logs", ".firehose.stdout.meta.json"), "utf8")) as { rotation?: { phase: string } };
      assert.ok(meta.rotation, "the crash left a rotation under way");

      const second = await start({ programs, readyTimeoutMs: 60_000 });
      const pm = second.client.processManager;
      await runToExit(second, "firehose");
      const read = await readAll(pm, "firehose");
      assert.equal(read.end, 20_000 * LINE_BYTES, "offsets count every byte, no more, no less");
      assert.ok(read.data.equals(expectedLines(20_000)), "every line once, in order");
      const recovered = serverMessages(await journalEvents(second)).filter((m) => m.includes("a previous daemon left"));
      assert.equal(recovered.length, 1, `one recovery said: ${recovered.join("; ")}`);
      // Before the cut the rotation is undone (the marker is still at the head); after it, finished.
      assert.match(recovered[0], phase === "copied" || phase === "marked" ? /was undone/ : /was finished/);
    });
  });
}

/** The daemon's live fallocate helpers (perl children), from /proc; a zombie is dead. */
function liveFallocateHelpers(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );
  return children.filter((child) => {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, "latin1");
      // The fallocate helper's script names its syscalls; the spawner (os/spawner.ts) is perl too.
      const helper = readFileSync(`/proc/${child}/cmdline`, "latin1").includes("$fallocate");
      return helper && stat.includes("(perl)") && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
      return false; // gone meanwhile
    }
  });
}

/**
 * A 20,000-line firehose rotated at 64 KiB under a fallocate-helper-exit failpoint, read back:
 * every byte counted, every line once and in order, the helper gone. Returns the daemon.
 */
async function firehoseWhileTheHelperDies(shared: SharedHome, failpoint: string, why: string): Promise<TestDaemon> {
  const programs = { firehose: writerProgram(["lines", "20000"], { max_bytes: "64KiB", backups: 100 }) };
  const daemon = await shared.start({ programs, env: { CORRAL_FAILPOINTS: `fallocate-helper-exit=${failpoint}` }, readyTimeoutMs: 60_000 });
  const pm = daemon.client.processManager;
  const started = await pm.startProcess({ name: "firehose", wait: StartWait.RUNNING });
  if (started.process) shared.owned.add([started.process]);
  await runToExit(daemon, "firehose");
  const read = await readAll(pm, "firehose");
  assert.equal(read.end, 20_000 * LINE_BYTES, "offsets count every byte, no more, no less");
  assert.ok(read.data.equals(expectedLines(20_000)), "every line once, in order");
  assert.deepEqual(liveFallocateHelpers(daemon.pid), [], why);
  return daemon;
}

// "before:2": the helper exits at its second collapse (the first is the probe of the log
// directory's filesystem), before the call; "after:2" after it; "before:1" under the probe.
for (const failpoint of ["before:2", "after:2", "before:1"]) {
  test(`the fallocate helper dies under a collapse (${failpoint}): the marker tells whether it cut, nothing lost, offsets true`, async () => {
    await inSharedHome(async (shared) => {
      const { home } = shared;
      const daemon = await firehoseWhileTheHelperDies(shared, failpoint, "the helper died (the cuts after it used fallocate(1))");
      // Collapse stayed the mode (a punched file keeps its head offset): a helper that died under
      // the probe says nothing about the filesystem.
      const meta = JSON.parse(readFileSync(join(home, "logs", ".firehose.stdout.meta.json"), "utf8")) as { head: number; base: number };
      assert.equal(meta.head, 0, "rotated by collapse-range");
      assert.ok(meta.base > 0, "rotated");
      const undone = serverMessages(await journalEvents(daemon)).filter((m) => m.includes("nothing was cut: the rotation was undone"));
      // Before the cut the marker is still there: that rotation is undone and said to have failed;
      // after it the marker is gone: the rotation goes on as if the helper had answered.
      assert.equal(undone.length, failpoint === "before:2" ? 1 : 0, undone.join("; "));
    });
  });
}

test("the fallocate helper dies under a copy (copy:1): the daemon copies that head itself; the rotation goes on, nothing lost", async () => {
  await inSharedHome(async (shared) => {
    const { home } = shared;
    const daemon = await firehoseWhileTheHelperDies(shared, "copy:1", "the helper died at its first copy");
    // The copy the helper left behind is replaced, not a reason to fail the rotation.
    const failed = serverMessages(await journalEvents(daemon)).filter((m) => m.includes("rotating") && m.includes("failed"));
    assert.deepEqual(failed, [], "no rotation failed");
    assert.deepEqual(
      readdirSync(join(home, "logs")).filter((f) => f.endsWith(".partial")),
      [],
      "no copy left behind",
    );
  });
});
