// End-to-end specification of a daemon killed with SIGKILL inside a log rotation (issue 13): a
// failpoint (server/core/failpoints.ts) kills it at each phase while a writer keeps writing; the
// next daemon finishes or undoes the rotation, and every byte is read back at its offset.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { StartWait } from "../../client/ts/index.js";
import { LINE_BYTES } from "../fixtures/log-writer.js";
import { journalEvents, serverMessages } from "../helpers/daemon.js";
import { expectedLines, readAll, runToExit, writerProgram } from "../helpers/logs.js";
import { inSharedHome } from "../helpers/shared-home.js";

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
