// End-to-end specification of readiness and liveness probes (tcp, exec, log, grpc) through a
// real daemon: wait=READY, `ready` beside the state, ProbeChanged events, liveness restarts.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ClientError, ProcessState, StartWait, Status, type Event } from "../../client/ts/index.js";
import { isAlive, journalEvents, repoRoot, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { freePort } from "../helpers/multihost.js";

const NODE = process.execPath;

describe("readiness and liveness probes over gRPC", () => {
  let daemon: TestDaemon;
  let flagFile: string;
  let aliveFile: string;
  const pm = () => daemon.client.processManager;

  before(async () => {
    const [tcpPort, grpcPort] = [await freePort("127.0.0.1"), await freePort("127.0.0.1")];
    const home = mkdtempSync(join(tmpdir(), "corral-probe-"));
    flagFile = join(home, "ready.flag");
    aliveFile = join(home, "alive.flag");
    const fast = { period: "100ms", timeout: "1s" };
    daemon = await startTestDaemon({
      programs: {
        // Opens its port 1.5 s after it starts.
        late: {
          command: [NODE, "-e", `setTimeout(() => require('net').createServer(() => {}).listen(${tcpPort}, '127.0.0.1'), 1500)`],
          autostart: false,
          stop_timeout: "2s",
          readiness: { tcp: `127.0.0.1:${tcpPort}`, ...fast },
        },
        never: {
          command: ["sleep", "60"],
          autostart: false,
          stop_timeout: "2s",
          readiness: { exec: ["false"], ...fast },
        },
        logger: {
          command: ["/bin/sh", "-c", "sleep 0.5; echo 'server listening on :8080'; sleep 60"],
          autostart: false,
          stop_timeout: "2s",
          readiness: { log: "listening on", ...fast },
        },
        flagged: {
          command: ["sleep", "60"],
          autostart: false,
          stop_timeout: "2s",
          readiness: { exec: ["test", "-e", flagFile], ...fast, failure_threshold: 2 },
        },
        lively: {
          command: ["sleep", "60"],
          autostart: false,
          autorestart: "on-failure",
          startsecs: "100ms",
          stop_timeout: "2s",
          backoff: { initial: "100ms" },
          liveness: { exec: ["test", "-e", aliveFile], ...fast, failure_threshold: 2 },
        },
        health: {
          command: [NODE, join(repoRoot, "dist/test/fixtures/grpc-health-server.js"), String(grpcPort), "700"],
          autostart: false,
          stop_timeout: "2s",
          readiness: { grpc: `127.0.0.1:${grpcPort}`, ...fast },
        },
      },
    });
  });

  after(async () => {
    await daemon?.stop();
    rmSync(join(flagFile, ".."), { recursive: true, force: true });
  });

  /** Every journaled event of one program so far (read up to the journal's last seq). */
  const eventsOf = async (name: string): Promise<Event[]> => (await journalEvents(daemon)).filter((event) => event.program === name);

  test("StartProcess wait=READY returns once the tcp port accepts, not before", async () => {
    const t0 = performance.now();
    const { process } = await pm().startProcess({ name: "late", wait: StartWait.READY, timeout: { seconds: 20n } });
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 1400, `returned after ${Math.round(elapsed)} ms, before the port opened at 1500 ms`);
    assert.equal(process?.state, ProcessState.RUNNING);
    assert.equal(process?.ready, true);
    assert.equal(process?.readinessProbe?.ok, true);
    assert.match(process?.readinessProbe?.message ?? "", /accepted a connection/);
    const events = await eventsOf("late");
    const probe = events.find((e) => e.detail.case === "probeChanged");
    assert.ok(probe && probe.detail.case === "probeChanged" && probe.detail.value.ok && probe.detail.value.probe === "readiness");
    const running = events.find((e) => e.detail.case === "stateChanged" && e.detail.value.to === ProcessState.RUNNING);
    assert.ok(running && running.seq > probe.seq, "RUNNING follows the probe's pass");
    await pm().stopProcess({ name: "late" });
  });

  test("wait=READY fails with DEADLINE_EXCEEDED naming the last probe result when it never passes", async () => {
    try {
      await pm().startProcess({ name: "never", wait: StartWait.READY, timeout: { nanos: 600_000_000 } });
      assert.fail("expected DEADLINE_EXCEEDED");
    } catch (error) {
      assert.ok(error instanceof ClientError, String(error));
      assert.equal(error.code, Status.DEADLINE_EXCEEDED);
      assert.match(error.details, /not ready after 600 ms.*readiness probe failed: exit code 1/);
    }
    const { process } = await pm().getProcess({ name: "never" });
    assert.equal(process?.state, ProcessState.STARTING, "a program whose probe has not passed stays STARTING");
    assert.equal(process?.ready, false);
    await pm().stopProcess({ name: "never" });
  });

  test("a log probe passes when a line matches", async () => {
    const { process } = await pm().startProcess({ name: "logger", wait: StartWait.READY, timeout: { seconds: 20n } });
    assert.equal(process?.ready, true);
    assert.match(process?.readinessProbe?.message ?? "", /matched: server listening on :8080/);
    await pm().stopProcess({ name: "logger" });
  });

  test("a grpc health probe passes once the program's server is SERVING", async () => {
    const { process } = await pm().startProcess({ name: "health", wait: StartWait.READY, timeout: { seconds: 20n } });
    assert.equal(process?.ready, true);
    assert.match(process?.readinessProbe?.message ?? "", /SERVING/);
    await pm().stopProcess({ name: "health" });
  });

  test("ready follows the probe while RUNNING, and each change is an event", async () => {
    writeFileSync(flagFile, "");
    await pm().startProcess({ name: "flagged", wait: StartWait.READY, timeout: { seconds: 20n } });
    rmSync(flagFile);
    await waitUntil(async () => (await pm().getProcess({ name: "flagged" })).process?.ready === false, 10_000, "ready to turn false");
    const { process } = await pm().getProcess({ name: "flagged" });
    assert.equal(process?.state, ProcessState.RUNNING, "readiness does not change the state once RUNNING");
    writeFileSync(flagFile, "");
    await waitUntil(async () => (await pm().getProcess({ name: "flagged" })).process?.ready === true, 10_000, "ready to turn true again");
    const changes = (await eventsOf("flagged")).flatMap((e) => (e.detail.case === "probeChanged" ? [e.detail.value.ok] : []));
    assert.deepEqual(changes, [true, false, true]);
    await pm().stopProcess({ name: "flagged" });
  });

  test("a failing liveness probe restarts the program per its restart policy, with an event saying why", async () => {
    writeFileSync(aliveFile, "");
    const { process: first } = await pm().startProcess({ name: "lively", wait: StartWait.RUNNING });
    const firstPid = first?.run?.pid ?? 0;
    assert.ok(firstPid > 0);
    rmSync(aliveFile);
    await waitUntil(
      async () => {
        const { process } = await pm().getProcess({ name: "lively" });
        return process?.state === ProcessState.RUNNING && process.run?.pid !== firstPid;
      },
      15_000,
      "a new run after the liveness failure",
    );
    writeFileSync(aliveFile, ""); // the new run stays alive
    assert.equal(isAlive(firstPid), false, "the failed run was killed");
    const events = await eventsOf("lively");
    const probe = events.find((e) => e.detail.case === "probeChanged");
    assert.ok(probe && probe.detail.case === "probeChanged");
    assert.equal(probe.detail.value.probe, "liveness");
    assert.match(probe.detail.value.message, /liveness probe failed 2 time\(s\): exit code 1/);
    const exited = events.find((e) => e.detail.case === "stateChanged" && e.detail.value.to === ProcessState.EXITED);
    assert.ok(exited && exited.detail.case === "stateChanged");
    assert.match(exited.detail.value.reason, /killed by SIGTERM \(liveness probe failed.*restarting/);
    const { process } = await pm().getProcess({ name: "lively" });
    assert.equal(process?.restarts, 1);
    await pm().stopProcess({ name: "lively" });
    assert.equal(existsSync(aliveFile), true);
  });
});
