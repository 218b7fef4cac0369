// Specification of stopping: two-stage kill of the whole process group, survivors reported,
// orphans of an exited leader cleaned up, and many programs stopping independently.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { groupMembers, readStat } from "../../server/core/os/proc.js";
import { KILL_WAIT_MS } from "../../server/core/os/group-stop.js";
import { isAlive, openFdCount, program, sh, startManager, waitForState, waitUntil } from "../helpers/core.js";

/** A leader ignoring SIGTERM that forks two grandchildren (and one great-grandchild) that ignore it too. */
const STUBBORN_TREE = sh(`
trap '' TERM
(trap '' TERM; sleep 300) &
(trap '' TERM; sh -c "trap '' TERM; sleep 300" & sleep 300) &
echo "pids $$ $!"
while :; do sleep 0.1; done
`);

describe("stop", () => {
  test("stop kills the whole process group after stop_timeout when SIGTERM is ignored", async () => {
    const f = startManager([program("stubborn", STUBBORN_TREE, { stopTimeoutMs: 500, startsecsMs: 300 })]);
    try {
      const started = await f.manager.start("stubborn");
      const pgid = started.run!.pid;
      await waitUntil(() => groupMembers(pgid).length >= 5, 5000, "the tree to be up");
      const members = groupMembers(pgid);
      const t0 = performance.now();
      const { process: p, survivors } = await f.manager.stop("stubborn");
      const took = performance.now() - t0;
      assert.equal(p.state, "STOPPED");
      assert.deepEqual(survivors, []);
      assert.equal(p.run?.exitSignal, "SIGKILL");
      assert.ok(took >= 480, `SIGKILL came after stop_timeout (${took} ms)`);
      for (const pid of members) assert.ok(!isAlive(pid), `pid ${pid} of the tree is still alive`);
      assert.deepEqual(groupMembers(pgid), []);
    } finally {
      await f.close();
    }
  });

  test("a program that honours SIGTERM stops at once, with its stop_signal", async () => {
    const f = startManager([program("polite", sh("trap 'echo bye; exit 0' INT; while :; do sleep 0.02; done"), { stopSignal: "SIGINT", startsecsMs: 200 })]);
    try {
      await f.manager.start("polite");
      const { process: p } = await f.manager.stop("polite");
      assert.equal(p.state, "STOPPED");
      // Its own exit on the stop signal (a SIGKILL after stop_timeout would show as exitSignal).
      assert.equal(p.run?.exitCode, 0);
      assert.equal(p.run?.exitSignal, undefined);
      const out = readFileSync(join(f.home, "logs", "polite.stdout.log"), "utf8");
      assert.match(out, /bye/);
    } finally {
      await f.close();
    }
  });

  test("a zombie left in the group does not hold up a stop (stop_timeout 150 ms stops in well under 1.5 s)", async () => {
    // A member of the group whose parent (outside the group, alive) never reaps it: its zombie
    // keeps the group id in use. This is what a slow-reaping init does to every killed
    // grandchild; here the reaper is a perl process we hold, so the zombie stays for sure.
    // The leader ignores SIGTERM, so the stop needs SIGKILL after stop_timeout.
    // The holder clears its environment and runs without cgroups, so containment does not reach
    // it (it is the run's own escapee otherwise, and would be stopped with it).
    const holder = `env -i "$(command -v perl)" -MPOSIX -e '
      my $group = getpgrp(); setpgid(0, 0);
      my $child = fork();
      if ($child == 0) { setpgid(0, $group); exec("sleep", "300"); }
      $| = 1; print "holder $$ member $child\\n"; sleep 60;' &`;
    const f = startManager([program("zombie-keeper", sh(`trap '' TERM\n${holder}\nwhile :; do sleep 0.1; done`), { stopTimeoutMs: 150 })], {
      cgroupRoot: "off",
    });
    const log = join(f.home, "logs", "zombie-keeper.stdout.log");
    let holderPid = 0;
    try {
      const started = await f.manager.start("zombie-keeper");
      const pgid = started.run!.pid;
      await waitUntil(() => /holder \d+ member \d+/.test(readFileSync(log, "utf8")), 5000, "the holder to start");
      const [, holderText, memberText] = /holder (\d+) member (\d+)/.exec(readFileSync(log, "utf8"))!;
      holderPid = Number(holderText);
      await waitUntil(() => groupMembers(pgid).includes(Number(memberText)), 5000, "the member to join the group");
      const t0 = performance.now();
      const { process: p, survivors } = await f.manager.stop("zombie-keeper");
      const took = performance.now() - t0;
      assert.equal(p.state, "STOPPED");
      assert.equal(p.run?.exitSignal, "SIGKILL");
      assert.deepEqual(survivors, []);
      assert.equal(readStat(Number(memberText))?.state, "Z", "the member is a zombie its holder has not reaped");
      // Waiting for the zombie to be reaped takes at least stop_timeout + the whole SIGKILL
      // confirmation window (the wait polls until that deadline): the bound is that schedule, not
      // a guess at how fast a loaded machine stops a process.
      assert.ok(took < 150 + KILL_WAIT_MS, `stop took ${Math.round(took)} ms: it waited out the SIGKILL confirmation (${KILL_WAIT_MS} ms) for the zombie`);
    } finally {
      if (holderPid > 0) process.kill(holderPid, "SIGKILL");
      await f.close();
    }
  });

  test("stopping a stopped program is a no-op that succeeds", async () => {
    const f = startManager([program("idle", sh("sleep 30"))]);
    try {
      const { process: p, survivors } = await f.manager.stop("idle");
      assert.equal(p.state, "STOPPED");
      assert.deepEqual(survivors, []);
    } finally {
      await f.close();
    }
  });

  test("grandchildren left behind by a leader that exited are cleaned up", async () => {
    const f = startManager([program("leaver", sh("sleep 300 & echo $! ; exit 4"), { stopTimeoutMs: 500 })]);
    try {
      const p = await f.manager.start("leaver");
      const pgid = p.run!.pid;
      await waitForState(f.manager, "leaver", "EXITED");
      await waitUntil(() => groupMembers(pgid).length === 0, 3000, "the orphaned sleep to be stopped");
    } finally {
      await f.close();
    }
  });

  test("100 programs start and stop concurrently, reach the right states and leak nothing", async () => {
    const programs = Array.from({ length: 100 }, (_, i) => program(`p${i}`, ["sleep", "300"], { labels: { batch: i % 2 ? "odd" : "even" } }));
    // One program is slow to stop: it must not delay the others.
    // Its stop_timeout outlasts any stop of the others on a loaded machine; the test kills it once checked.
    programs.push(program("slowpoke", STUBBORN_TREE, { stopTimeoutMs: 120_000, startsecsMs: 200 }));
    const f = startManager(programs);
    try {
      const fdsBefore = openFdCount();
      const resourcesBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      const started = await f.manager.startAll();
      assert.equal(started.length, 101);
      assert.ok(
        started.every((r) => r.ok && r.process.state === "RUNNING"),
        "all RUNNING",
      );

      const slowpoke = f.manager.get("slowpoke").run!.pid;
      const slowStop = f.manager.stop("slowpoke");
      const stopped = await f.manager.stopAll({ matchLabels: { batch: "odd" } });
      assert.equal(stopped.length, 50);
      assert.ok(stopped.every((r) => r.ok && r.process.state === "STOPPED"));
      // The others were done while the slow stop still waited for its stop_timeout.
      assert.equal(f.manager.get("slowpoke").state, "STOPPING", "the slow stop delayed the others");
      process.kill(-slowpoke, "SIGKILL");
      assert.equal(f.manager.list({ matchLabels: { batch: "even" } }).filter((p) => p.state === "RUNNING").length, 50);

      const rest = await f.manager.stopAll();
      assert.ok(rest.every((r) => r.ok && r.process.state === "STOPPED"));
      await slowStop;
      for (const p of f.manager.list()) assert.ok(!isAlive(p.run!.pid), `${p.name} pid ${p.run!.pid} alive`);
      // The children's pipes close as their exits are handled: waited for, not slept on.
      await waitUntil(() => openFdCount() <= fdsBefore + 2, 10_000, `fds to go back from ${openFdCount()} to ${fdsBefore} (+2)`);
      const timersAfter = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      assert.ok(timersAfter <= resourcesBefore + 1, `timers grew from ${resourcesBefore} to ${timersAfter}`);
    } finally {
      await f.close();
    }
  });
});
