// Specification of containment: a stop reaches every process of a run, also those that left its
// process group (setsid, a double fork), through the run's cgroup where the host offers cgroup v2
// and through the CORRAL_RUN_ID marker in their environment where it does not.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runLookupOf } from "../../server/core/monitor/runs.js";
import { StatsSampler } from "../../server/core/monitor/stats.js";
import { isAlive, program, sh, startManager, waitUntil, type ManagerFixture } from "../helpers/core.js";
import { processesWithEnv } from "../helpers/proc.js";

/** Processes of this home's runs (they inherit CORRAL_DAEMON_HOME), with their argv. */
function runProcesses(f: ManagerFixture): { pid: number; argv: string[] }[] {
  return processesWithEnv("CORRAL_DAEMON_HOME", f.home);
}

function sleepsOf(f: ManagerFixture, seconds: string): number[] {
  return runProcesses(f)
    .filter((p) => p.argv[0] === "sleep" && p.argv[1] === seconds)
    .map((p) => p.pid);
}

/** Kills by pid whatever of the home a failed test left behind. */
function killLeftovers(f: ManagerFixture): void {
  for (const { pid } of runProcesses(f)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

const modes = [
  { name: "with cgroups", options: {} },
  { name: "without cgroups", options: { cgroupRoot: "off" } },
] as const;

for (const mode of modes) {
  describe(`containment ${mode.name}`, () => {
    const open = (programs: Parameters<typeof startManager>[0]) => {
      const f = startManager(programs, mode.options);
      // The cgroup path must really run on this machine kind (cgroup2 at /sys/fs/cgroup/unified, as root).
      if (mode.name === "with cgroups") assert.notEqual(f.manager.containment.mode, "none", f.manager.containment.description);
      else assert.equal(f.manager.containment.mode, "none");
      return f;
    };

    test("a stop reaches a process that called setsid (sh -c 'setsid sleep 1004 & sleep 1005')", async () => {
      const f = open([program("escaper", sh("setsid sleep 1004 & sleep 1005"), { stopTimeoutMs: 1000 })]);
      try {
        const started = await f.manager.start("escaper");
        await waitUntil(() => sleepsOf(f, "1004").length === 1 && sleepsOf(f, "1005").length === 1, 10_000, "both sleeps to run");
        const [escapee] = sleepsOf(f, "1004");
        const pgid = started.run!.pid;
        const { process: p, survivors } = await f.manager.stop("escaper");
        assert.equal(p.state, "STOPPED");
        assert.deepEqual(survivors, []);
        assert.ok(!isAlive(escapee), `the setsid escapee ${escapee} outlived the stop of group ${pgid}`);
        assert.deepEqual(runProcesses(f), [], "nothing of the run is left");
      } finally {
        killLeftovers(f);
        await f.close();
      }
    });

    test("a stop reaches a double-forked daemon (reparented to init, in its own session)", async () => {
      const f = open([program("daemonizer", sh(`(setsid sh -c 'sleep 1006 & exit 0' &); sleep 1007`), { stopTimeoutMs: 1000 })]);
      try {
        await f.manager.start("daemonizer");
        await waitUntil(() => sleepsOf(f, "1006").length === 1 && sleepsOf(f, "1007").length === 1, 10_000, "the daemon and the leader's sleep");
        const [daemon] = sleepsOf(f, "1006");
        const { survivors } = await f.manager.stop("daemonizer");
        assert.deepEqual(survivors, []);
        assert.ok(!isAlive(daemon), `the double-forked ${daemon} outlived the stop`);
        assert.deepEqual(runProcesses(f), []);
      } finally {
        killLeftovers(f);
        await f.close();
      }
    });

    test("a stop of a 300-process tree, a third of it escaped by setsid and double forks, leaves nothing", async () => {
      const script = `for i in $(seq 1 100); do sleep 1010 & setsid sleep 1011 & (setsid sh -c 'sleep 1012 & exit 0' &); done; echo up; sleep 1013`;
      const f = open([program("tree", sh(script), { stopTimeoutMs: 2000 })]);
      try {
        await f.manager.start("tree");
        await waitUntil(() => runProcesses(f).filter((p) => p.argv[0] === "sleep").length >= 301, 60_000, "301 sleeps");
        const before = runProcesses(f).map((p) => p.pid);
        const { survivors } = await f.manager.stop("tree");
        assert.deepEqual(survivors, []);
        const alive = before.filter(isAlive);
        assert.deepEqual(alive, [], `${alive.length} of ${before.length} processes outlived the stop`);
      } finally {
        killLeftovers(f);
        await f.close();
      }
    });

    test("a run's CPU counts its exited children and never goes down", async () => {
      // Two subshells burn CPU and exit (their parent waits for them); then only idle processes are left.
      const burn = "(i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done)";
      const f = open([program("burner", sh(`${burn}; ${burn}; echo burnt; exec sleep 1030`))]);
      try {
        await f.manager.start("burner");
        const log = join(f.home, "logs", "burner.stdout.log");
        await waitUntil(() => readFileSync(log, "utf8").includes("burnt"), 60_000, "the burners to finish");
        await waitUntil(() => sleepsOf(f, "1030").length === 1, 10_000, "the idle sleep");
        const sampler = new StatsSampler(runLookupOf(f.manager));
        const [first] = sampler.sample([{ program: "burner" }], true);
        const live = [first!.process!, ...first!.children].reduce((total, p) => total + p.cpuSeconds, 0);
        assert.ok(first!.total!.cpuSeconds >= live + 0.05, `run CPU ${first!.total!.cpuSeconds} s counts the exited burners (live processes: ${live} s)`);
        const [second] = sampler.sample([{ program: "burner" }], true);
        assert.ok(second!.total!.cpuSeconds >= first!.total!.cpuSeconds, "the counter never goes down");
      } finally {
        killLeftovers(f);
        await f.close();
      }
    });

    if (mode.name === "with cgroups") {
      test("each run has its own cgroup, removed once the run is stopped", async () => {
        const f = open([program("contained", ["sleep", "1020"])]);
        try {
          const started = await f.manager.start("contained");
          const path = `${f.manager.containment.root}/run-${started.run!.runId}`;
          assert.ok(existsSync(path), `${path} exists`);
          await f.manager.stop("contained");
          assert.ok(!existsSync(path), `${path} is removed after the stop`);
        } finally {
          killLeftovers(f);
          await f.close();
        }
      });
    }
  });
}
