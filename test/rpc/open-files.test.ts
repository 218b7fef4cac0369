// End-to-end specification of running out of file descriptors: the daemon runs under a low
// RLIMIT_NOFILE (prlimit), the test holds client connections until the daemon has no fd left.
// Starts and log reads fail with RESOURCE_EXHAUSTED saying "too many open files (limit N)", the
// daemon stays up, and everything works again once the connections are closed.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { createConnection, type Socket } from "node:net";
import { ProcessState, Status, StartWait } from "../../client/index.js";
import { rpcError, startTestDaemon, waitUntil } from "../helpers/daemon.js";

const LIMIT = 128;

test("out of file descriptors: clear RESOURCE_EXHAUSTED errors, the daemon stays up and recovers", async (t) => {
  const daemon = await startTestDaemon({
    wrapper: ["prlimit", `--nofile=${LIMIT}:${LIMIT}`, "--"],
    programs: {
      worker: { command: ["/bin/sh", "-c", "echo working; sleep 60"], autostart: false, startsecs: "100ms", startretries: 0, stop_timeout: "2s" },
    },
  });
  const sockets: Socket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await daemon.stop();
  });
  const pm = daemon.client.processManager;
  const fds = () => readdirSync(`/proc/${daemon.pid}/fd`).length;
  const baseline = fds();
  assert.ok(baseline < LIMIT - 10, `the daemon starts with ${baseline} fds, well under ${LIMIT}`);
  // Put some output in the log before the fds run out.
  await pm.startProcess({ name: "worker", wait: StartWait.RUNNING });
  await waitUntil(async () => (await pm.readLogs({ name: "worker" })).chunk?.data.toString() === "working\n", 5000, "worker's output");
  await pm.stopProcess({ name: "worker" });

  // Each connection to the socket holds one fd in the daemon (plain sockets: gRPC channels
  // would share one connection): connect until the daemon has none left.
  for (let i = 0; i < LIMIT; i++) {
    await new Promise<void>((resolve) => {
      const socket = createConnection(daemon.socketPath, resolve);
      socket.on("error", () => resolve());
      sockets.push(socket);
    });
  }
  await waitUntil(() => fds() >= LIMIT, 10_000, `the daemon to use up its ${LIMIT} fds (at ${fds()})`);

  const refused = await rpcError(pm.startProcess({ name: "worker", wait: StartWait.RUNNING }), "start with no fd left");
  assert.equal(refused.code, Status.RESOURCE_EXHAUSTED, refused.details);
  assert.match(refused.details, new RegExp(`start of worker failed: .*too many open files \\(limit ${LIMIT}, EMFILE\\)`));
  const unread = await rpcError(pm.readLogs({ name: "worker" }), "read with no fd left");
  assert.equal(unread.code, Status.RESOURCE_EXHAUSTED, unread.details);
  assert.match(unread.details, /opening the log file .*worker\.stdout\.log: too many open files/);
  assert.ok((await pm.getServerInfo({})).version.length > 0, "the daemon still answers");

  // Connections closed: fds come back, and the same calls work.
  for (const socket of sockets.splice(0)) socket.destroy();
  await waitUntil(() => fds() < LIMIT - 10, 10_000, "the daemon to release the connections' fds");
  const started = await pm.startProcess({ name: "worker", wait: StartWait.RUNNING });
  assert.equal(started.process?.state, ProcessState.RUNNING);
  await waitUntil(async () => (await pm.readLogs({ name: "worker" })).chunk?.data.toString() === "working\nworking\n", 5000, "worker's second output");
  assert.equal(daemon.child.exitCode, null, "the daemon never exited");
  await pm.stopProcess({ name: "worker" });
});
