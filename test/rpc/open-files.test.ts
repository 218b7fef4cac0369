// End-to-end specification of running out of file descriptors: the daemon runs under a low
// RLIMIT_NOFILE (prlimit), the test holds client connections until the daemon has no fd left.
// Starts, log reads and new followers fail with RESOURCE_EXHAUSTED saying "too many open files
// (limit N)"; a follower under way waits and loses nothing; the daemon stays up, and everything
// works again once the connections are closed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createConnection, type Socket } from "node:net";
import { LogStream, ProcessState, Status, StartWait, StopWait } from "../../client/ts/index.js";
import { readStat } from "../../server/core/os/proc.js";
import { isAlive, rpcError, sleep, startTestDaemon, waitUntil } from "../helpers/daemon.js";
import { openFdCount } from "../helpers/proc.js";

const LIMIT = 128;

/**
 * Each connection to the socket holds one fd in the daemon (plain sockets: gRPC channels would
 * share one connection): connects until the daemon has none left. The sockets go into `sockets`.
 */
async function useUpFds(socketPath: string, pid: number, sockets: Socket[]): Promise<void> {
  for (let i = 0; i < LIMIT; i++) {
    await new Promise<void>((resolve) => {
      const socket = createConnection(socketPath, resolve);
      socket.on("error", () => resolve());
      sockets.push(socket);
    });
  }
  await waitUntil(() => openFdCount(pid) >= LIMIT, 10_000, `the daemon to use up its ${LIMIT} fds (at ${openFdCount(pid)})`);
}

test("out of file descriptors: clear RESOURCE_EXHAUSTED errors, the daemon stays up and recovers", async (t) => {
  const daemon = await startTestDaemon({
    wrapper: ["prlimit", `--nofile=${LIMIT}:${LIMIT}`, "--"],
    // Node's spawn, which needs fds of the daemon's own (the spawner, os/spawner.ts, has its own
    // fd table: a start through it needs none of the daemon's, and succeeds here).
    env: { CORRAL_SPAWNER: "off" },
    programs: {
      worker: { command: ["/bin/sh", "-c", "echo working; sleep 60"], autostart: false, startsecs: "100ms", startretries: 0, stop_timeout: "2s" },
      ticker: {
        command: ["/bin/sh", "-c", "i=0; while :; do echo tick$i; i=$((i+1)); sleep 0.05; done"],
        autostart: false,
        startsecs: "100ms",
        stop_timeout: "2s",
      },
    },
  });
  const sockets: Socket[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await daemon.stop();
  });
  const pm = daemon.client.processManager;
  const fds = () => openFdCount(daemon.pid);
  const baseline = fds();
  assert.ok(baseline < LIMIT - 10, `the daemon starts with ${baseline} fds, well under ${LIMIT}`);
  // Put some output in the log before the fds run out.
  await pm.startProcess({ name: "worker", wait: StartWait.RUNNING });
  await waitUntil(async () => (await pm.readLogs({ name: "worker" })).chunk?.data.toString() === "working\n", 5000, "worker's output");
  await pm.stopProcess({ name: "worker" });

  // A follower under way before the fds run out (its reads open the file each time).
  await pm.startProcess({ name: "ticker", wait: StartWait.RUNNING });
  const follow = new AbortController();
  let followed = "";
  let followError: unknown;
  let nextOffset = 0n;
  const following = (async () => {
    try {
      for await (const { chunk } of pm.followLogs({ name: "ticker", stream: LogStream.STDOUT, offset: 0n }, { signal: follow.signal })) {
        assert.equal(chunk?.offset, nextOffset, "the follower's chunks are contiguous");
        nextOffset += BigInt(chunk?.data.length ?? 0);
        followed += chunk?.data.toString() ?? "";
      }
    } catch (error) {
      // Our own abort at the end ends it with an AbortError; anything else is a failure.
      if (!follow.signal.aborted) followError = error;
    }
  })();
  await waitUntil(() => followed.includes("tick3\n"), 5000, "the follower to get output");

  await useUpFds(daemon.socketPath, daemon.pid, sockets);

  const refused = await rpcError(pm.startProcess({ name: "worker", wait: StartWait.RUNNING }), "start with no fd left");
  assert.equal(refused.code, Status.RESOURCE_EXHAUSTED, refused.details);
  assert.match(refused.details, new RegExp(`start of worker failed: .*too many open files \\(limit ${LIMIT}, EMFILE\\)`));
  const unread = await rpcError(pm.readLogs({ name: "worker" }), "read with no fd left");
  assert.equal(unread.code, Status.RESOURCE_EXHAUSTED, unread.details);
  assert.match(unread.details, /opening the log file .*worker\.stdout\.log: too many open files/);
  assert.ok((await pm.getServerInfo({})).version.length > 0, "the daemon still answers");
  // A new follower is told at once; the one under way waits (the ticker keeps writing meanwhile).
  const newFollower = await rpcError(
    (async () => {
      for await (const _ of pm.followLogs({ name: "ticker", stream: LogStream.STDOUT, offset: 0n })) return;
    })(),
    "a new follower with no fd left",
  );
  assert.equal(newFollower.code, Status.RESOURCE_EXHAUSTED, newFollower.details);
  const lastBefore = Number(/tick(\d+)\n$/.exec(followed)?.[1] ?? -1);
  await sleep(500);

  // Connections closed: fds come back, and the same calls work.
  for (const socket of sockets.splice(0)) socket.destroy();
  await waitUntil(() => fds() < LIMIT - 10, 10_000, "the daemon to release the connections' fds");
  const started = await pm.startProcess({ name: "worker", wait: StartWait.RUNNING });
  assert.equal(started.process?.state, ProcessState.RUNNING);
  await waitUntil(async () => (await pm.readLogs({ name: "worker" })).chunk?.data.toString() === "working\nworking\n", 5000, "worker's second output");
  // The follower under way got everything, in order, with no gap and no error.
  await waitUntil(() => Number(/tick(\d+)\n$/.exec(followed)?.[1] ?? -1) > lastBefore + 10, 10_000, "the follower to catch up");
  follow.abort();
  await following;
  assert.equal(followError, undefined, `the follower ended with ${String(followError)}`);
  const ticks = followed.trimEnd().split("\n");
  assert.deepEqual(
    ticks,
    ticks.map((_, i) => `tick${i}`),
    "every line once, in order",
  );
  assert.equal(daemon.child.exitCode, null, "the daemon never exited");
  await pm.stopProcess({ name: "worker" });
  await pm.stopProcess({ name: "ticker" });
});

test("out of file descriptors, a start through the spawner still succeeds: the spawner forks with fds of its own", async (t) => {
  const daemon = await startTestDaemon({
    wrapper: ["prlimit", `--nofile=${LIMIT}:${LIMIT}`, "--"],
    programs: {
      warmup: { command: ["sleep", "60"], autostart: false, startsecs: "0s", autorestart: "never", stop_timeout: "2s" },
      worker: { command: ["/bin/sh", "-c", "echo working; exec sleep 60"], autostart: false, startsecs: "100ms", startretries: 0, stop_timeout: "2s" },
    },
  });
  const sockets: Socket[] = [];
  const pids: number[] = [];
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    for (const pid of pids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
    await daemon.stop();
  });
  const pm = daemon.client.processManager;
  const fds = () => openFdCount(daemon.pid);
  // The spawner starts with the daemon; until it answers, Node's spawn forks (os/spawner.ts).
  await waitUntil(
    async () => {
      await pm.stopProcess({ name: "warmup", wait: StopWait.STOPPED });
      const pid = (await pm.startProcess({ name: "warmup", wait: StartWait.RUNNING })).process?.run?.pid ?? 0;
      pids.push(pid);
      return readStat(pid)?.ppid !== daemon.pid;
    },
    10_000,
    "a run forked by the spawner",
  );
  await useUpFds(daemon.socketPath, daemon.pid, sockets);
  const started = await pm.startProcess({ name: "worker", wait: StartWait.RUNNING });
  assert.equal(started.process?.state, ProcessState.RUNNING, started.process?.stateReason);
  const worker = started.process?.run?.pid ?? 0;
  pids.push(worker);
  assert.notEqual(readStat(worker)?.ppid, daemon.pid, "the spawner forked it");
  assert.ok(fds() >= LIMIT, `the daemon still had no fd left while it started (at ${fds()})`);
  // Its output is in its log once fds come back (the child wrote it to a file the spawner opened).
  for (const socket of sockets.splice(0)) socket.destroy();
  await waitUntil(() => fds() < LIMIT - 10, 10_000, "the daemon to release the connections' fds");
  await waitUntil(async () => (await pm.readLogs({ name: "worker" })).chunk?.data.toString() === "working\n", 5000, "worker's output");
  const stopped = await pm.stopProcess({ name: "worker", wait: StopWait.STOPPED });
  assert.equal(stopped.process?.state, ProcessState.STOPPED, stopped.process?.stateReason);
  assert.equal(isAlive(worker), false);
  assert.equal(daemon.child.exitCode, null, "the daemon never exited");
});
