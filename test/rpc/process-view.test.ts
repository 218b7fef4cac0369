// PROCESS_VIEW_BASIC, the slim reply of ListProcesses, StartAll and StopAll: every field of each
// ProcessInfo as usual except the spec, which keeps only name and host; the default view is whole.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import { ListProcessesResponseSchema, ProcessState, ProcessView, StartWait, StopWait } from "../../client/ts/index.js";
import { startTestDaemon } from "../helpers/daemon.js";

/** One program of this host with an env and labels, one placed elsewhere. */
const programs = {
  a: { command: ["sleep", "300"], autostart: false, startsecs: 0, env: { COLOUR: "green" }, labels: { tier: "web" } },
  b: { command: ["sleep", "300"], autostart: false, startsecs: 0, host: "elsewhere" },
};

test("the basic view leaves out the spec but for name and host; the default view carries it whole", async () => {
  const daemon = await startTestDaemon({ programs });
  try {
    const pm = daemon.client.processManager;
    const full = await pm.listProcesses({});
    const basic = await pm.listProcesses({ view: ProcessView.BASIC });
    assert.deepEqual(
      full.processes.map((p) => p.spec?.command),
      [
        ["sleep", "300"],
        ["sleep", "300"],
      ],
    );
    assert.equal(full.processes[0]!.spec?.env.COLOUR, "green");
    for (const [i, p] of basic.processes.entries()) {
      const whole = full.processes[i]!;
      assert.equal(p.spec?.name, whole.name);
      assert.equal(p.spec?.host, whole.spec?.host);
      assert.deepEqual(p.spec?.command, [], "no command in the basic view");
      assert.deepEqual(p.spec?.env, {}, "no env in the basic view");
      // Everything else is as in the whole view.
      assert.deepEqual({ ...p, spec: undefined }, { ...whole, spec: undefined });
    }
    assert.equal(basic.processes[1]!.spec?.host, "elsewhere");
    assert.ok(toBinary(ListProcessesResponseSchema, basic).length < toBinary(ListProcessesResponseSchema, full).length / 2);

    const started = await pm.startAll({ selector: { names: ["a"] }, wait: StartWait.RUNNING, view: ProcessView.BASIC });
    assert.equal(started.results[0]!.process?.state, ProcessState.RUNNING);
    assert.ok(started.results[0]!.process!.run!.pid > 0, "the run is there");
    assert.deepEqual(started.results[0]!.process?.spec?.command, []);
    const stopped = await pm.stopAll({ selector: { names: ["a"] }, wait: StopWait.STOPPED, view: ProcessView.BASIC });
    assert.equal(stopped.results[0]!.process?.state, ProcessState.STOPPED);
    assert.deepEqual(stopped.results[0]!.process?.spec?.command, []);
    const stoppedWhole = await pm.stopAll({ selector: { names: ["a"] }, wait: StopWait.STOPPED });
    assert.deepEqual(stoppedWhole.results[0]!.process?.spec?.command, ["sleep", "300"], "the default view is whole");
  } finally {
    await daemon.stop();
  }
});

test("the status view carries what a status table prints: no labels, state_since or spec but a program's host", async () => {
  const daemon = await startTestDaemon({ programs });
  try {
    const pm = daemon.client.processManager;
    await pm.startProcess({ name: "a" });
    const full = await pm.listProcesses({});
    const status = await pm.listProcesses({ view: ProcessView.STATUS });
    const [a, b] = status.processes;
    assert.equal(a?.spec, undefined, "no spec for a program of this host");
    assert.deepEqual(a?.labels, {});
    assert.equal(a?.stateSince, undefined);
    assert.equal(b?.spec?.host, "elsewhere");
    assert.deepEqual(b?.spec?.command, []);
    for (const [i, p] of status.processes.entries()) {
      const whole = full.processes[i]!;
      // What the table prints is as in the whole view.
      for (const field of ["name", "state", "stateReason", "run", "restarts", "ready", "host", "remote"] as const)
        assert.deepEqual(p[field], whole[field], field);
    }
    assert.ok(a!.run!.pid > 0, "the run is there");
    assert.ok(toBinary(ListProcessesResponseSchema, status).length < toBinary(ListProcessesResponseSchema, full).length / 2);
  } finally {
    await daemon.stop();
  }
});
