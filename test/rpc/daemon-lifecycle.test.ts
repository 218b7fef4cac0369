// The daemon as a process: how it starts (socket ownership, listeners, config errors) and how it
// stops (SIGTERM and the Shutdown RPC stop every program's whole process group, then exit 0).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ClientError, connect, ProcessState, Status } from "../../client/ts/index.js";
import { isAlive, processGroupMembers, spawnDaemon, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const NODE = process.execPath;

/** Programs that make stopping non-trivial: a tree of processes, and one that ignores SIGTERM. */
const STOPPABLE_PROGRAMS = {
  tree: { command: ["sh", "-c", "sleep 30 & sleep 30 & wait"], startsecs: "200ms", stop_timeout: "2s" },
  plain: { command: ["sleep", "30"], startsecs: "200ms", stop_timeout: "2s" },
  stubborn: {
    command: [NODE, "-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);"],
    startsecs: "200ms",
    stop_timeout: "500ms",
  },
};

async function waitForAllRunning(daemon: TestDaemon): Promise<void> {
  await waitUntil(
    async () => (await daemon.client.processManager.listProcesses({})).processes.every((p) => p.state === ProcessState.RUNNING),
    10_000,
    "every autostart program RUNNING",
  );
}

/** Waits until every program runs, then returns every pid of every run's process group. */
async function runningPids(daemon: TestDaemon): Promise<number[]> {
  await waitForAllRunning(daemon);
  const { processes } = await daemon.client.processManager.listProcesses({});
  const leaders = processes.map((p) => p.run?.pid ?? 0);
  assert.ok(leaders.every((pid) => pid > 0));
  // The shell's two sleeps join its group: 3 members, all of which must go.
  await waitUntil(() => processGroupMembers(leaders[0]).length === 3, 5_000, "the tree's group to have 3 members");
  return leaders.flatMap((leader) => processGroupMembers(leader));
}

test("SIGTERM stops every program's whole process group, then the daemon exits 0", async () => {
  const daemon = await startTestDaemon({ programs: STOPPABLE_PROGRAMS });
  try {
    const pids = await runningPids(daemon);
    const exit = await daemon.stop(); // SIGTERM
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.output());
    assert.deepEqual(pids.filter(isAlive), [], "no process of any program is left");
    assert.ok(!existsSync(daemon.socketPath), "the socket file is removed");
  } finally {
    await daemon.stop();
  }
});

test("Shutdown answers, then stops every program and the daemon exits 0", async () => {
  const daemon = await startTestDaemon({ programs: STOPPABLE_PROGRAMS });
  try {
    const pids = await runningPids(daemon);
    await daemon.client.processManager.shutdown({});
    const exit = await daemon.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.output());
    assert.deepEqual(pids.filter(isAlive), []);
  } finally {
    await daemon.stop();
  }
});

test("a watcher sees the programs stop during shutdown, then its stream ends with UNAVAILABLE", async () => {
  const daemon = await startTestDaemon({ programs: { plain: STOPPABLE_PROGRAMS.plain } });
  try {
    await waitForAllRunning(daemon);
    // Replaying the last journaled event first tells the test that the stream is established.
    const { lastEventSeq } = await daemon.client.processManager.getServerInfo({});
    const seen: string[] = [];
    let established!: () => void;
    const firstItem = new Promise<void>((resolve) => (established = resolve));
    const watching = (async () => {
      for await (const item of daemon.client.processManager.watchEvents({ afterSeq: lastEventSeq - 1n })) {
        established();
        if (item.kind.case !== "event" || item.kind.value.seq <= lastEventSeq) continue;
        const { program, detail } = item.kind.value;
        if (program === "plain" && detail.case === "stateChanged") seen.push(ProcessState[detail.value.to]);
      }
    })();
    watching.catch(() => {});
    await Promise.race([firstItem, watching]);
    const stopping = Date.now();
    daemon.child.kill("SIGTERM");
    await assert.rejects(watching, (error: unknown) => error instanceof ClientError && error.code === Status.UNAVAILABLE);
    assert.deepEqual(seen, ["STOPPING", "STOPPED"]);
    assert.deepEqual(await daemon.exited, { code: 0, signal: null });
    assert.ok(Date.now() - stopping < 4_000, "an open stream does not hold up the daemon's exit");
  } finally {
    await daemon.stop();
  }
});

test("a second daemon on the same home refuses to start and leaves the first one's socket alone", async () => {
  const first = await startTestDaemon();
  try {
    const second = spawnDaemon(["--home", first.home, "--config", join(first.home, "corral.yaml")]);
    const exit = await second.exited;
    assert.equal(exit.code, 1, second.output());
    assert.match(second.output(), /another corral daemon \(pid \d+, since [^)]+\) is running on home/);
    const info = await first.client.processManager.getServerInfo({});
    assert.equal(info.pid, first.pid, "the first daemon still answers on its socket");
  } finally {
    await first.stop();
  }
});

test("a stale socket left by a killed daemon is replaced", async () => {
  const home = await mkdtemp(join(tmpdir(), "corral-e2e-"));
  try {
    const killed = await startTestDaemon({ home });
    killed.child.kill("SIGKILL"); // no programs, so nothing is orphaned
    await killed.exited;
    await killed.stop();
    assert.ok((await stat(killed.socketPath)).isSocket(), "the dead daemon's socket is still there");

    const next = await startTestDaemon({ home });
    try {
      assert.equal((await next.client.processManager.getServerInfo({})).pid, next.pid);
    } finally {
      await next.stop();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("--listen on loopback serves the same API over TCP", async () => {
  const daemon = await startTestDaemon({ args: ["--listen", "127.0.0.1:0"] });
  try {
    const info = await daemon.client.processManager.getServerInfo({});
    assert.equal(info.listen.length, 2);
    assert.equal(info.listen[0], `unix:${daemon.socketPath}`);
    assert.match(info.listen[1], /^127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(info.listen[1], /:0$/, "the bound port, not the requested 0");
    const tcp = connect({ address: info.listen[1] });
    try {
      assert.equal((await tcp.processManager.getServerInfo({})).pid, daemon.pid);
    } finally {
      tcp.close();
    }
  } finally {
    await daemon.stop();
  }
});

test("--listen beyond loopback is refused, naming the address and TLS", async () => {
  const home = await mkdtemp(join(tmpdir(), "corral-e2e-"));
  try {
    const daemon = spawnDaemon(["--home", home, "--listen", "0.0.0.0:0"]);
    const exit = await daemon.exited;
    assert.notEqual(exit.code, 0);
    assert.match(daemon.output(), /0\.0\.0\.0:0/);
    assert.match(daemon.output(), /TLS/);
    assert.ok(!existsSync(join(home, "corral.sock")));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("a bad config exits 2 and names the file, line and field", async () => {
  const home = await mkdtemp(join(tmpdir(), "corral-e2e-"));
  try {
    const config = join(home, "bad.yaml");
    await writeFile(config, "programs:\n  web:\n    command: [sleep, '30']\n    startsecs: soon\n");
    const daemon = spawnDaemon(["--home", home, "--config", config]);
    const exit = await daemon.exited;
    assert.equal(exit.code, 2, daemon.output());
    assert.match(daemon.output(), /bad\.yaml:4:\d+: programs\.web\.startsecs/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
