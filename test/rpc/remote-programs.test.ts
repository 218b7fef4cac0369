// End-to-end specification of programs of other hosts (issue 3, "Labels and selection"): a
// program whose `host` is not this daemon's host name is listed as remote and never started,
// stopped, signalled or adopted here. A real daemon (--host-name lab1), the real client.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessState, Status } from "../../client/ts/index.js";
import { isAlive, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const sleeper = (extra: Record<string, unknown> = {}) => ({ command: ["sleep", "300"], startsecs: 0, stop_timeout: "2s", ...extra });
const yaml = (programs: Record<string, unknown>, server: Record<string, unknown> = {}) => JSON.stringify({ server, programs }, null, 2);

describe("programs of other hosts over gRPC", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;

  before(async () => {
    daemon = await startTestDaemon({
      configYaml: yaml({ here: sleeper(), named: sleeper({ host: "lab1" }), away: sleeper({ host: "lab2", labels: { tier: "x" } }) }),
      args: ["--host-name", "lab1"],
    });
    await waitUntil(
      async () => {
        const { processes } = await pm().listProcesses({});
        return processes.filter((p) => p.state === ProcessState.RUNNING).length === 2;
      },
      10_000,
      "here and named RUNNING",
    );
  });

  after(async () => {
    await daemon?.stop();
  });

  test("a program of another host is listed as remote with its host, and is not autostarted", async () => {
    assert.equal((await pm().getServerInfo({})).hostname, "lab1");
    const { processes } = await pm().listProcesses({});
    const byName = new Map(processes.map((p) => [p.name, p]));
    assert.deepEqual([byName.get("here")!.host, byName.get("here")!.remote], ["lab1", false]);
    assert.deepEqual([byName.get("named")!.host, byName.get("named")!.remote], ["lab1", false]);
    assert.equal(byName.get("named")!.state, ProcessState.RUNNING);
    const away = byName.get("away")!;
    assert.deepEqual([away.host, away.remote, away.spec?.host], ["lab2", true, "lab2"]);
    assert.equal(away.state, ProcessState.STOPPED);
    assert.equal(away.run, undefined);
    assert.equal(away.stateReason, "remote: runs on host lab2");
  });

  test("StartProcess, StopProcess, SignalProcess and RestartProcess on a remote program are FAILED_PRECONDITION naming its host", async () => {
    for (const call of [
      pm().startProcess({ name: "away" }),
      pm().stopProcess({ name: "away" }),
      pm().signalProcess({ name: "away", signal: "SIGTERM" }),
      pm().restartProcess({ name: "away" }),
    ]) {
      const error = await rpcError(call);
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      assert.match(error.details, /away runs on host lab2/);
    }
    const { process } = await pm().getProcess({ name: "away" });
    assert.equal(process?.state, ProcessState.STOPPED);
    assert.equal(process?.run, undefined);
  });

  test("StartAll and StopAll skip a remote program with an ok result that says where it runs", async () => {
    const started = await pm().startAll({ selector: { matchLabels: { tier: "x" } } });
    assert.equal(started.results.length, 1);
    assert.deepEqual([started.results[0]!.name, started.results[0]!.ok, started.results[0]!.note], ["away", true, "remote: runs on host lab2"]);
    assert.equal(started.results[0]!.process?.state, ProcessState.STOPPED);
    const stopped = await pm().stopAll({ selector: { matchLabels: { tier: "x" } } });
    assert.deepEqual([stopped.results[0]!.name, stopped.results[0]!.ok, stopped.results[0]!.note], ["away", true, "remote: runs on host lab2"]);
  });

  test("ApplyConfig moving a running program to another host is a restart-worthy change: its run stops and none starts", async () => {
    const { process: before } = await pm().getProcess({ name: "here" });
    const pid = before!.run!.pid;
    assert.ok(isAlive(pid));
    const text = yaml({ here: sleeper({ host: "lab3" }), named: sleeper({ host: "lab1" }), away: sleeper({ host: "lab2", labels: { tier: "x" } }) });
    const dry = await pm().applyConfig({ source: { case: "text", value: text }, dryRun: true });
    assert.deepEqual(dry.diff?.changed, ["here"]);
    assert.deepEqual(dry.diff?.restarted, ["here"]);
    assert.equal(before!.run!.pid, (await pm().getProcess({ name: "here" })).process!.run!.pid);
    await pm().applyConfig({ source: { case: "text", value: text } });
    await waitUntil(() => !isAlive(pid), 10_000, "the moved program's run to end");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { process: moved } = await pm().getProcess({ name: "here" });
    assert.equal(moved?.state, ProcessState.STOPPED);
    assert.deepEqual([moved?.host, moved?.remote], ["lab3", true]);
    assert.equal(moved?.run?.pid, pid, "no new run was started");
  });
});

describe("a restarted daemon and a program that moved to another host", () => {
  test("the saved run of a now-remote program is neither adopted nor stopped (server.host_name from the config)", async () => {
    const home = await mkdtemp(join(tmpdir(), "corral-remote-"));
    let pid = 0;
    try {
      const first = await startTestDaemon({ home, configYaml: yaml({ job: sleeper() }, { host_name: "lab1" }) });
      await waitUntil(
        async () => (await first.client.processManager.getProcess({ name: "job" })).process?.state === ProcessState.RUNNING,
        10_000,
        "job RUNNING",
      );
      pid = (await first.client.processManager.getProcess({ name: "job" })).process!.run!.pid;
      // Let the state store save the run, then kill the daemon so the run is left behind.
      await new Promise((resolve) => setTimeout(resolve, 300));
      first.child.kill("SIGKILL");
      await first.exited;
      first.client.close();

      const second = await startTestDaemon({ home, configYaml: yaml({ job: sleeper({ host: "lab2" }) }, { host_name: "lab1" }) });
      try {
        const { process } = await second.client.processManager.getProcess({ name: "job" });
        assert.deepEqual([process?.host, process?.remote, process?.state], ["lab2", true, ProcessState.STOPPED]);
        assert.notEqual(process?.run?.pid, pid, "not adopted");
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.ok(isAlive(pid), "not stopped either");
      } finally {
        await second.stop();
      }
      assert.ok(isAlive(pid), "the daemon's shutdown left the remote program's process alone");
    } finally {
      // The test owns the left-behind run: its process group, by the pid it read.
      if (pid > 0) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await rm(home, { recursive: true, force: true });
    }
  });
});
