// End-to-end specification of the ProcessMonitor service's stats, lookup and zombies: a real
// daemon, real programs (a CPU burner, a 200 MB allocator, a zombie maker), the real client.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { createChannel, createClient, type Channel } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { Status, type ProcessStats, type StatsSample } from "../../client/ts/index.js";
import { isAlive, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { processGroupMembers, readStat, zombieChildrenOf } from "../helpers/proc.js";

/** Clock ticks per second of /proc/PID/stat, asked of the system (not of the daemon under test). */
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

const NODE = process.execPath;
const MB = 1024 * 1024;
const MARKER = "Corral-Find-Marker-7d41";

const programs = {
  // The CPU burners run only during the tests that need them: other test files share the cores.
  burner: { command: [NODE, "-e", "for (;;) {}"], autostart: false, startsecs: "0s", stop_timeout: "2s" },
  // sh waits on a burning child: the leader itself uses no CPU, its tree does.
  family: { command: ["/bin/sh", "-c", `"${NODE}" -e 'for (;;) {}' & wait`], autostart: false, startsecs: "0s", stop_timeout: "2s" },
  // 200 MB, every page written, plus 20 open files.
  hog: {
    command: [
      NODE,
      "-e",
      "globalThis.b = Buffer.alloc(200 * 1024 * 1024, 1); const fs = require('fs'); globalThis.fds = Array.from({length: 20}, () => fs.openSync('/dev/null', 'r')); console.log('ready'); setInterval(() => {}, 1000);",
    ],
    autostart: true,
    startsecs: "0s",
    stop_timeout: "2s",
  },
  marked: { command: ["/bin/sh", "-c", `sleep 600; : ${MARKER}`], autostart: true, startsecs: "0s", stop_timeout: "2s" },
  // "sleep 0" exits at once, and its parent (sh exec'ed into sleep 600) never reaps it.
  zombies: { command: ["/bin/sh", "-c", "sleep 0 & exec sleep 600"], autostart: true, startsecs: "0s", stop_timeout: "2s" },
  idle: { command: ["sleep", "600"], autostart: false },
  broken: { command: ["/nonexistent/corral-test-binary"], autostart: false, startretries: 0 },
};

describe("ProcessMonitor over gRPC: stats, lookup, zombies", () => {
  let daemon: TestDaemon;
  const pmon = () => daemon.client.processMonitor;
  const pm = () => daemon.client.processManager;

  before(async () => {
    daemon = await startTestDaemon({ programs });
    await waitUntil(
      async () => {
        const { processes } = await pm().listProcesses({});
        return processes.filter((p) => p.run && p.run.pid > 0 && !["idle", "broken", "burner", "family"].includes(p.name)).length === 3;
      },
      10_000,
      "autostart programs running",
    );
  });

  after(async () => {
    await daemon?.stop();
  });

  const interval = { seconds: 1n, nanos: 0 };

  /** Runs fn while the named programs run, and stops them after. */
  async function whileRunning<T>(names: string[], fn: () => Promise<T>): Promise<T> {
    try {
      for (const name of names) await pm().startProcess({ name });
      return await fn();
    } finally {
      for (const name of names) await pm().stopProcess({ name });
    }
  }

  /**
   * Runs a GetStats call and measures, from /proc and independently of the daemon, the share of a
   * core (percent) the given pids used during the call (which contains the daemon's interval).
   */
  async function withObservedCpu<T>(pids: () => Promise<number[]>, call: () => Promise<T>): Promise<{ result: T; observed: number }> {
    const ids = await pids();
    const ticks = () => ids.reduce((sum, pid) => sum + (readStat(pid)?.cpuTicks ?? 0), 0);
    const [t0, c0] = [performance.now(), ticks()];
    const result = await call();
    const [t1, c1] = [performance.now(), ticks()];
    return { result, observed: (((c1 - c0) / CLOCK_TICKS) * 100_000) / (t1 - t0) };
  }

  /** The daemon's figure agrees with /proc's for the same process: a busy loop on a loaded host gets less than a core. */
  function assertCpuMatches(reported: number | undefined, observed: number, what: string): void {
    assert.ok(reported !== undefined, `${what}: cpu_percent is known after an interval`);
    assert.ok(observed > 5, `${what}: the busy loop got some CPU (${observed.toFixed(1)}% seen in /proc)`);
    assert.ok(reported > observed * 0.5 && reported < observed * 2 + 10, `${what}: cpu_percent ${reported.toFixed(1)}, /proc says ${observed.toFixed(1)}`);
  }

  test("a CPU-burning program shows high CPU over a real interval", async () => {
    const {
      result: { sample },
      observed,
    } = await whileRunning(["burner"], () =>
      withObservedCpu(
        async () => [(await pm().getProcess({ name: "burner" })).process!.run!.pid],
        () => pmon().getStats({ target: { target: { case: "program", value: "burner" } }, interval }),
      ),
    );
    const stats = sample!.process!;
    assert.equal(sample!.program, "burner");
    assertCpuMatches(stats.cpuPercent, observed, "burner");
    assert.ok(stats.cpuSeconds > 0);
    assert.ok(stats.threads >= 1);
    assert.ok(stats.uptime && stats.uptime.seconds >= 0n);
    assert.equal(stats.state.length, 1);
  });

  test("the first sample of a process says CPU is not yet known, the next one knows it", async () => {
    const { process: info } = await pm().getProcess({ name: "marked" });
    const pid = info!.run!.pid;
    const first = await pmon().getStats({ target: { target: { case: "pid", value: pid } } });
    assert.equal(first.sample!.process!.cpuPercent, undefined, "no interval yet: unset rather than a bogus 0");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await pmon().getStats({ target: { target: { case: "pid", value: pid } } });
    assert.equal(typeof second.sample!.process!.cpuPercent, "number");
    assert.equal(second.sample!.program, "marked", "a pid is attributed to its program");
  });

  test("a child that allocates 200 MB shows it in RSS, and its open fds are counted", async () => {
    let stats: ProcessStats | undefined;
    await waitUntil(
      async () => {
        stats = (await pmon().getStats({ target: { target: { case: "program", value: "hog" } } })).sample!.process;
        return stats !== undefined && stats.rssBytes >= 200n * BigInt(MB);
      },
      15_000,
      "hog's RSS to reach 200 MB",
    );
    assert.ok(stats!.vsizeBytes >= stats!.rssBytes);
    assert.ok(stats!.openFds !== undefined && stats!.openFds >= 20 + 3, `open fds ${stats!.openFds}`);
  });

  test("include_children sums the whole tree and lists its members", async () => {
    const {
      result: { sample },
      observed,
    } = await whileRunning(["family"], () =>
      withObservedCpu(
        async () => {
          const root = (await pm().getProcess({ name: "family" })).process!.run!.pid;
          // The tree: sh and the busy loop it forked (wait until it has).
          await waitUntil(() => processGroupMembers(root).length >= 2, 10_000, "family's child to start");
          return processGroupMembers(root);
        },
        () => pmon().getStats({ target: { target: { case: "program", value: "family" } }, includeChildren: true, interval }),
      ),
    );
    const root = sample!.process!;
    const total = sample!.total!;
    assert.equal(sample!.children.length, 1, `children: ${sample!.children.map((c) => c.name).join(", ")}`);
    const child = sample!.children[0]!;
    assert.equal(child.ppid, root.pid);
    assert.ok(root.cpuPercent !== undefined && root.cpuPercent < 20, `sh itself is idle: ${root.cpuPercent}`);
    assertCpuMatches(total.cpuPercent, observed, "tree total");
    assert.equal(total.rssBytes, root.rssBytes + child.rssBytes);
    assert.equal(total.threads, root.threads + child.threads);
    assert.equal(total.pid, root.pid);
  });

  test("errors: NOT_FOUND for a pid that does not exist or an unknown program, FAILED_PRECONDITION with the state for a program not running", async () => {
    const missingPid = await rpcError(pmon().getStats({ target: { target: { case: "pid", value: 99_999_999 } } }));
    assert.equal(missingPid.code, Status.NOT_FOUND);
    const unknown = await rpcError(pmon().getStats({ target: { target: { case: "program", value: "nope" } } }));
    assert.equal(unknown.code, Status.NOT_FOUND);
    const stopped = await rpcError(pmon().getStats({ target: { target: { case: "program", value: "idle" } } }));
    assert.equal(stopped.code, Status.FAILED_PRECONDITION);
    assert.match(stopped.details, /not running \(state STOPPED/);
    const noTarget = await rpcError(pmon().getStats({}));
    assert.equal(noTarget.code, Status.INVALID_ARGUMENT);
  });

  test("WatchStats samples many targets per tick, with known CPU from the first tick, and reports a target that stopped", async () => {
    await pm().startProcess({ name: "idle" });
    await pm().startProcess({ name: "burner" });
    const abort = new AbortController();
    const ticks: StatsSample[][] = [];
    const { process: marked } = await pm().getProcess({ name: "marked" });
    const { process: burner } = await pm().getProcess({ name: "burner" });
    // When each tick arrived and the burner's CPU ticks then, as /proc says (not the daemon).
    const seen: { ms: number; cpuTicks: number }[] = [];
    try {
      for await (const { samples } of pmon().watchStats(
        {
          targets: [
            { target: { case: "program", value: "burner" } },
            { target: { case: "pid", value: marked!.run!.pid } },
            { target: { case: "program", value: "idle" } },
          ],
          interval: { seconds: 0n, nanos: 300_000_000 },
        },
        { signal: abort.signal },
      )) {
        ticks.push(samples);
        seen.push({ ms: performance.now(), cpuTicks: readStat(burner!.run!.pid)?.cpuTicks ?? 0 });
        if (ticks.length === 1) await pm().stopProcess({ name: "idle" });
        if (ticks.length === 3) break;
      }
    } finally {
      abort.abort();
      await pm().stopProcess({ name: "burner" });
    }
    const [first, , last] = ticks;
    assert.deepEqual(
      first!.map((s) => s.target?.target.case),
      ["program", "pid", "program"],
      "request order",
    );
    for (const sample of first!) {
      assert.equal(sample.error, "");
      assert.equal(typeof sample.process?.cpuPercent, "number", "the first tick comes after a baseline");
    }
    // Ticks 2 and 3 cover about the span from the first tick's arrival to the last's.
    const [from, , to] = seen;
    const observed = (((to!.cpuTicks - from!.cpuTicks) / CLOCK_TICKS) * 100_000) / (to!.ms - from!.ms);
    const reported = (ticks[1]![0]!.process!.cpuPercent! + last![0]!.process!.cpuPercent!) / 2;
    assertCpuMatches(reported, observed, "the burner over ticks 2 and 3");
    assert.match(last![2]!.error, /not running/);
    assert.equal(last![2]!.process, undefined);
    assert.equal(last![0]!.error, "");
  });

  test("WatchStats refuses a bad target at once", async () => {
    const error = await rpcError(
      (async () => {
        for await (const _ of pmon().watchStats({ targets: [{ target: { case: "program", value: "idle" } }] })) break;
      })(),
    );
    assert.equal(error.code, Status.FAILED_PRECONDITION);
  });

  test("FindProcesses matches command lines CGSE's way and names the program", async () => {
    const { process: marked } = await pm().getProcess({ name: "marked" });
    const found = await pmon().findProcesses({ items: [MARKER.toLowerCase(), "sleep 600"] });
    assert.deepEqual(
      found.processes.map((p) => p.pid),
      [marked!.run!.pid],
    );
    const entry = found.processes[0]!;
    assert.equal(entry.program, "marked");
    assert.equal(entry.runId, marked!.run!.runId);
    assert.equal(entry.cmdline[0], "/bin/sh");
    assert.ok(entry.createTime);
    const sensitive = await pmon().findProcesses({ items: [MARKER.toLowerCase()], caseSensitive: true });
    assert.equal(sensitive.processes.length, 0, "case-sensitive: the lower-case item does not match");
    const exactMiss = await pmon().findProcesses({ items: [MARKER], contains: false });
    assert.equal(exactMiss.processes.length, 0, "exact: no argument equals the marker alone");
    const exactHit = await pmon().findProcesses({ items: [`sleep 600; : ${MARKER}`, "-c"], contains: false });
    assert.deepEqual(
      exactHit.processes.map((p) => p.pid),
      [marked!.run!.pid],
    );
    const none = await rpcError(pmon().findProcesses({ items: [] }));
    assert.equal(none.code, Status.INVALID_ARGUMENT);
  });

  test("ListZombies finds a program's unreaped child, and the daemon leaves no zombies of its own", async () => {
    const { process: maker } = await pm().getProcess({ name: "zombies" });
    let zombies: Awaited<ReturnType<ReturnType<typeof pmon>["listZombies"]>>["zombies"] = [];
    await waitUntil(
      async () => {
        zombies = (await pmon().listZombies({})).zombies;
        return zombies.some((z) => z.ppid === maker!.run!.pid);
      },
      10_000,
      "the zombie of 'zombies'",
    );
    const mine = zombies.find((z) => z.ppid === maker!.run!.pid)!;
    assert.equal(mine.name, "sleep");
    assert.equal(mine.program, "zombies");
    assert.equal(mine.parentIsDaemon, false);

    // Exercise the daemon's own children: starts, stops, a crash, a spawn failure.
    await pm().startProcess({ name: "idle" });
    await pm().stopProcess({ name: "idle" });
    await pm()
      .startProcess({ name: "broken" })
      .catch(() => undefined);
    await pm().restartProcess({ name: "marked" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = (await pmon().listZombies({})).zombies;
    assert.deepEqual(
      after.filter((z) => z.parentIsDaemon),
      [],
      "the daemon reaps every child",
    );
    // The same, read from /proc by the test itself.
    assert.deepEqual(zombieChildrenOf(daemon.pid), []);
  });

  test("health reports SERVING for corral.v1.ProcessMonitor", async () => {
    const channel: Channel = createChannel(daemon.address);
    try {
      const health = createClient(HealthDefinition, channel);
      assert.equal((await health.check({ service: "corral.v1.ProcessMonitor" })).status, 1);
    } finally {
      channel.close();
    }
  });

  test("the daemon stopping a watched program leaves its pid gone", async () => {
    await pm().startProcess({ name: "burner" });
    const { process: burner } = await pm().getProcess({ name: "burner" });
    await pm().stopProcess({ name: "burner" });
    assert.equal(isAlive(burner!.run!.pid), false);
    const error = await rpcError(pmon().getStats({ target: { target: { case: "pid", value: burner!.run!.pid } } }));
    assert.equal(error.code, Status.NOT_FOUND);
  });
});
