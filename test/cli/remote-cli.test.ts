// The CLI with programs of other hosts: `corral status` grows a HOST column only when some
// program names a host, and `corral start --all` says where a remote program runs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral } from "../helpers/cli.js";

describe("corral CLI with remote programs", () => {
  let daemon: TestDaemon;

  before(async () => {
    const sleeper = { command: ["sleep", "300"], startsecs: 0, stop_timeout: "2s" };
    daemon = await startTestDaemon({ programs: { here: sleeper, away: { ...sleeper, host: "lab2" } }, args: ["--host-name", "lab1"] });
    await waitUntil(
      async () => (await daemon.client.processManager.getProcess({ name: "here" })).process?.state === ProcessState.RUNNING,
      10_000,
      "here RUNNING",
    );
  });

  after(async () => {
    await daemon?.stop();
  });

  test("status shows a HOST column, marking other hosts' programs remote", async () => {
    const { code, stdout } = await corral(["status"], daemon.address);
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME\s+HOST\s+STATE\s+READY\s+PID\s+UPTIME\s+RESTARTS\s+REASON$/);
    assert.match(stdout, /^here\s+lab1\s+RUNNING\s/m);
    assert.match(stdout, /^away\s+lab2 \(remote\)\s+STOPPED\s.*remote: runs on host lab2$/m);
  });

  test("start --all exits 0 and says the remote program runs elsewhere; start of it fails naming the host", async () => {
    const all = await corral(["start", "--all"], daemon.address);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^away\s+ok\s+STOPPED\s+remote: runs on host lab2$/m);
    const one = await corral(["start", "away"], daemon.address);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /FAILED_PRECONDITION.*away runs on host lab2/);
  });
});
