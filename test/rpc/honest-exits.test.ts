// Honest exits: a stop, restart, ApplyConfig restart or shutdown asked for is an expected exit
// ("stopped by request", with the signal that ended it); an exit corral did not cause is
// unexpected, and says the run's last lines of stderr.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ProcessState, type Event, type ProcessExited } from "../../client/ts/index.js";
import { journalEvents, waitUntil, type TestDaemon, SLOW_START_MS } from "../helpers/daemon.js";
import { inSharedHome, listAll, waitForStates } from "../helpers/shared-home.js";

type Exit = ProcessExited & { runId: bigint; program: string };

function exitsOf(events: Event[], program: string): Exit[] {
  return events.flatMap((e) => (e.detail.case === "processExited" && e.program === program ? [{ ...e.detail.value, runId: e.runId, program: e.program }] : []));
}

async function runIdOf(daemon: TestDaemon, name: string): Promise<bigint> {
  const info = await waitForStates(daemon, (p) => p.name !== name || p.state === ProcessState.RUNNING, `${name} RUNNING`);
  return info.get(name)!.run!.runId;
}

test("stop, restart, an ApplyConfig restart and shutdown are expected exits, 'stopped by request' with the signal that ended them", {
  timeout: 180_000,
}, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const web = { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s", autorestart: "never" };
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs: { web } });
    const pm = daemon.client.processManager;
    const first = await runIdOf(daemon, "web");
    owned.add((await listAll(daemon)).values());
    await pm.restartProcess({ name: "web" });
    const second = await runIdOf(daemon, "web");
    owned.add((await listAll(daemon)).values());
    const changed = join(home, "changed.yaml");
    await writeFile(changed, JSON.stringify({ programs: { web: { ...web, env: { CHANGED: "1" } } } }));
    assert.deepEqual((await pm.applyConfig({ source: { case: "path", value: changed } })).diff?.restarted, ["web"]);
    await waitUntil(async () => (await runIdOf(daemon, "web")) > second, 20_000, "the config's new run");
    const third = await runIdOf(daemon, "web");
    owned.add((await listAll(daemon)).values());
    const stopped = await pm.stopProcess({ name: "web" });
    assert.match(stopped.process?.stateReason ?? "", /^stopped by request; killed by SIGTERM$/);
    await pm.startProcess({ name: "web" });
    const fourth = await runIdOf(daemon, "web");
    owned.add((await listAll(daemon)).values());
    await pm.shutdown({});
    await daemon.exited;

    // The journal outlives the daemon: the next one serves it.
    const next = await start({ readyTimeoutMs: SLOW_START_MS, programs: {} });
    const exits = exitsOf(await journalEvents(next), "web");
    const byRun = new Map(exits.map((exit) => [exit.runId, exit]));
    const expectations: [bigint, RegExp][] = [
      [first, /^stopped by request \(restart\); killed by SIGTERM$/],
      [second, /^stopped by request \(config change\); killed by SIGTERM$/],
      [third, /^stopped by request; killed by SIGTERM$/],
      [fourth, /^stopped by request \(daemon shutdown\); killed by SIGTERM$/],
    ];
    for (const [runId, reason] of expectations) {
      const exit = byRun.get(runId);
      assert.ok(exit, `an exit of run ${runId}`);
      assert.equal(exit.expected, true, `run ${runId}: ${exit.reason}`);
      assert.equal(exit.signal, "SIGTERM");
      assert.match(exit.reason, reason);
    }
  });
});

test("an exit corral did not cause is unexpected and carries the run's last lines of stderr", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const script = 'for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; echo out; exit 3';
    const crash = { command: ["sh", "-c", script], startsecs: "0s", autorestart: "never" };
    const victim = { command: ["sleep", "300"], startsecs: "100ms", autorestart: "never" };
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs: { crash, victim } });
    const states = await waitForStates(
      daemon,
      (p) => (p.name === "crash" ? p.state === ProcessState.EXITED : p.state === ProcessState.RUNNING),
      "crash EXITED, victim RUNNING",
    );
    owned.add(states.values());
    const reason = states.get("crash")!.stateReason;
    assert.match(reason, /^exited with code 3 \(unexpected\); last stderr: line 3 \| line 4 \| line 5 \| line 6 \| line 7$/);
    // Killed from outside, not by corral.
    process.kill(states.get("victim")!.run!.pid, "SIGKILL");
    await waitForStates(daemon, (p) => p.state === ProcessState.EXITED, "victim EXITED");

    const events = await journalEvents(daemon);
    const [crashed] = exitsOf(events, "crash");
    assert.equal(crashed?.expected, false);
    assert.equal(crashed?.exitCode, 3);
    assert.equal(crashed?.reason, "exited with code 3 (unexpected)");
    assert.deepEqual(crashed?.stderrTail, ["line 3", "line 4", "line 5", "line 6", "line 7"]);
    const [killed] = exitsOf(events, "victim");
    assert.equal(killed?.expected, false);
    assert.equal(killed?.signal, "SIGKILL");
    assert.equal(killed?.reason, "killed by SIGKILL (unexpected)");
  });
});
