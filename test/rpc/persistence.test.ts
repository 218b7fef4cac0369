// A daemon that loses nothing: programs outlive a daemon killed with SIGKILL or shut down with
// keep_processes, and the next daemon on the same home re-adopts them (same pid, run id, uptime),
// keeps every byte of their output, keeps user-stopped programs stopped, applies restart
// policies to runs that ended meanwhile, never adopts a reused pid, and continues the journal.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { LogStream, ProcessState, type ProcessInfo } from "../../client/ts/index.js";
import { isAlive, journalEvents, processGroupMembers, sleep, waitUntil, type TestDaemon, type TestProgram } from "../helpers/daemon.js";
import { inSharedHome, killDaemon, listAll, waitForStates } from "../helpers/shared-home.js";

/** Prints 1, 2, 3, ... one line every 50 ms: the log must hold every line exactly once. */
const COUNTER = ["sh", "-c", 'i=0; while :; do i=$((i+1)); echo "$i"; sleep 0.05; done'];
const COMMON = { autostart: true, startsecs: "100ms", stop_timeout: "2s" };

/** 20 programs: 6 counters, 11 sleepers, one the user stops, two whose process dies while the daemon is down. */
function fleet(): Record<string, TestProgram> {
  const programs: Record<string, TestProgram> = {};
  for (let i = 0; i < 6; i++) programs[`counter-${i}`] = { command: COUNTER, ...COMMON };
  for (let i = 0; i < 11; i++) programs[`sleeper-${i}`] = { command: ["sleep", "300"], ...COMMON, autorestart: "always" };
  programs["user-stopped"] = { command: ["sleep", "300"], ...COMMON, autorestart: "always" };
  programs["dies-always"] = { command: ["sleep", "300"], ...COMMON, autorestart: "always" };
  programs["dies-never"] = { command: ["sleep", "300"], ...COMMON, autorestart: "never" };
  return programs;
}

function uptimeMs(p: ProcessInfo): number {
  return p.uptime ? Number(p.uptime.seconds) * 1000 + p.uptime.nanos / 1e6 : -1;
}

/** The whole stdout of a program; a counter's must be "1\n2\n...N\n" with nothing missing or repeated. */
async function counterLog(daemon: TestDaemon, name: string): Promise<{ lines: number; bytes: number; endOffset: number }> {
  const { chunk, endOffset, firstOffset } = await daemon.client.processManager.readLogs({ name, stream: LogStream.STDOUT, offset: 0n, maxBytes: 1 << 20 });
  assert.equal(firstOffset, 0n, `${name}: nothing rotated away`);
  const text = Buffer.from(chunk?.data ?? new Uint8Array()).toString("utf8");
  const lines = text.split("\n");
  assert.equal(lines.pop(), "", `${name}: the log ends with a whole line`);
  const expected = Array.from({ length: lines.length }, (_, i) => String(i + 1));
  assert.deepEqual(lines, expected, `${name}: every counter value once, in order`);
  return { lines: lines.length, bytes: Buffer.byteLength(text), endOffset: Number(endOffset) };
}

test("after SIGKILL of the daemon, the next daemon re-adopts every live run and loses no output", { timeout: 120_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const programs = fleet();
    const first = await start({ programs });
    const before = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "all 20 RUNNING");
    owned.add(before.values());
    assert.equal(before.size, 20);
    await first.client.processManager.stopProcess({ name: "user-stopped" });
    // The counters have printed before the kill (the read also checks the lines are contiguous).
    await waitUntil(async () => (await counterLog(first, "counter-0")).lines >= 3, 10_000, "counter-0 to print");
    const maxRunIdBefore = Math.max(...[...before.values()].map((p) => Number(p.run?.runId ?? 0n)));

    await killDaemon(first);
    const killedAt = Date.now();
    // While no daemon runs: two programs' processes end, and the counters keep printing.
    const diesAlways = before.get("dies-always")?.run?.pid ?? 0;
    const diesNever = before.get("dies-never")?.run?.pid ?? 0;
    process.kill(-diesAlways, "SIGKILL");
    process.kill(-diesNever, "SIGKILL");
    const survivors = [...before.values()].filter((p) => !["user-stopped", "dies-always", "dies-never"].includes(p.name));
    for (const p of survivors) assert.ok(isAlive(p.run?.pid ?? 0), `${p.name} outlives the daemon`);
    // Output written while no daemon runs must be kept too: wait until the counter's own file grew.
    const counterFile = join(home, "logs", "counter-0.stdout.log");
    const sizeAtKill = statSync(counterFile).size;
    await waitUntil(() => statSync(counterFile).size >= sizeAtKill + 8, 10_000, "counter-0 to write while no daemon runs");

    const second = await start({ programs });
    const after = await waitForStates(
      second,
      (p) =>
        p.name === "user-stopped"
          ? p.state === ProcessState.STOPPED
          : p.name === "dies-never"
            ? p.state === ProcessState.EXITED
            : p.state === ProcessState.RUNNING,
      "the restored states",
    );
    owned.add(after.values());
    for (const old of survivors) {
      const now = after.get(old.name);
      assert.ok(now?.run && old.run);
      assert.equal(now.state, ProcessState.RUNNING, old.name);
      assert.equal(now.run.pid, old.run.pid, `${old.name}: same pid`);
      assert.equal(now.run.runId, old.run.runId, `${old.name}: same run id`);
      assert.deepEqual(now.run.startedAt, old.run.startedAt, `${old.name}: same start time`);
      assert.match(now.stateReason, /re-adopted/);
      assert.ok(uptimeMs(now) >= Date.now() - killedAt + uptimeMs(old) - 500, `${old.name}: uptime continues (${uptimeMs(now)} ms)`);
    }
    const stopped = after.get("user-stopped");
    assert.equal(stopped?.state, ProcessState.STOPPED, "a program the user stopped stays stopped");
    assert.ok(!isAlive(before.get("user-stopped")?.run?.pid ?? 0));
    const never = after.get("dies-never");
    assert.equal(never?.run?.pid, diesNever);
    assert.match(never?.stateReason ?? "", /exit status unknown: ended while the daemon was down/);
    const always = after.get("dies-always");
    assert.ok(always?.run && always.run.pid !== diesAlways, "autorestart always: restarted with a new process");
    assert.ok(Number(always.run.runId) > maxRunIdBefore, "run ids keep increasing across daemons");
    assert.equal(always.restarts, 1);

    // stop works on adopted runs and leaves no process of their groups.
    const stopResults = await second.client.processManager.stopAll({});
    assert.ok(
      stopResults.results.every((r) => r.ok),
      JSON.stringify(stopResults.results.filter((r) => !r.ok).map((r) => r.error)),
    );
    for (const p of [...before.values(), ...after.values()]) {
      const pid = p.run?.pid ?? 0;
      if (pid <= 0) continue; // user-stopped has no run in the second daemon
      await waitUntil(() => processGroupMembers(pid).length === 0, 10_000, `group ${pid} of ${p.name} to be empty`);
    }
    for (let i = 0; i < 6; i++) {
      const log = await counterLog(second, `counter-${i}`);
      assert.equal(log.bytes, log.endOffset, "the byte count the daemon reports is what the program wrote");
      assert.ok(log.lines >= 10, `counter-${i} printed before, during and after the daemon's absence (${log.lines} lines)`);
    }
  });
});

test("Shutdown with keep_processes and SIGTERM with --keep-processes leave programs running for the next daemon, which adopts them", {
  timeout: 120_000,
}, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const programs = { "counter-0": { command: COUNTER, ...COMMON }, tree: { command: ["sh", "-c", "sleep 300 & sleep 300 & wait"], ...COMMON } };
    const first = await start({ programs });
    const before = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "all RUNNING");
    owned.add(before.values());
    await first.client.processManager.shutdown({ keepProcesses: true });
    assert.deepEqual(await first.exited, { code: 0, signal: null }, first.output());
    for (const p of before.values()) assert.ok(isAlive(p.run?.pid ?? 0), `${p.name} keeps running`);

    const second = await start({ programs, args: ["--keep-processes"] });
    const adopted = await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "all RUNNING again");
    for (const old of before.values()) {
      assert.equal(adopted.get(old.name)?.run?.pid, old.run?.pid);
      assert.equal(adopted.get(old.name)?.run?.runId, old.run?.runId);
    }
    second.child.kill("SIGTERM");
    assert.deepEqual(await second.exited, { code: 0, signal: null }, second.output());
    assert.match(second.output(), /leaving programs running/);
    for (const p of before.values()) assert.ok(isAlive(p.run?.pid ?? 0), `${p.name} keeps running after SIGTERM with --keep-processes`);

    // A plain SIGTERM stops adopted programs like any other: whole groups, nothing left.
    const third = await start({ programs });
    const again = await waitForStates(third, (p) => p.state === ProcessState.RUNNING && /re-adopted/.test(p.stateReason), "re-adopted twice");
    for (const old of before.values()) assert.equal(again.get(old.name)?.run?.pid, old.run?.pid);
    const treePid = before.get("tree")?.run?.pid ?? 0;
    assert.equal(processGroupMembers(treePid).length, 3);
    const exit = await third.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, third.output());
    for (const p of before.values()) assert.deepEqual(processGroupMembers(p.run?.pid ?? 0), [], `${p.name}: the whole group is stopped`);
    const log = await readFile(join(home, "logs", "counter-0.stdout.log"), "utf8");
    const lines = log.split("\n").slice(0, -1);
    assert.deepEqual(
      lines,
      Array.from({ length: lines.length }, (_, i) => String(i + 1)),
      "no output lost across two hand-overs",
    );
  });
});

test("a run whose pid no longer has the saved start time is not adopted, is reported lost, and is never signalled", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const programs = { victim: { command: ["sleep", "300"], ...COMMON, autorestart: "never" } };
    const first = await start({ programs });
    const before = await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING");
    owned.add(before.values());
    await killDaemon(first);
    // Make the saved identity differ from the live process: as if the pid had been reused.
    const statePath = join(home, "state", "state.json");
    const state = JSON.parse(await readFile(statePath, "utf8")) as { programs: Record<string, { run?: { pidStartTicks: number } }> };
    const saved = state.programs.victim.run;
    assert.ok(saved);
    saved.pidStartTicks += 1;
    await writeFile(statePath, JSON.stringify(state));

    const second = await start({ programs });
    const victim = (await listAll(second)).get("victim");
    const pid = before.get("victim")?.run?.pid ?? 0;
    assert.equal(victim?.state, ProcessState.EXITED);
    assert.match(victim?.stateReason ?? "", new RegExp(`run lost: pid ${pid} now belongs to another process`));
    await sleep(300);
    assert.ok(isAlive(pid), "the process that is not provably ours is neither adopted nor killed");
    await assert.rejects(second.client.processManager.signalProcess({ name: "victim", signal: "SIGTERM" }));
    assert.ok(isAlive(pid));
  });
});

test("event seqs continue across a daemon restart and WatchEvents resumes after the last seq seen", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ owned, start }) => {
    const programs = { one: { command: ["sleep", "300"], ...COMMON } };
    const first = await start({ programs });
    owned.add((await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING")).values());
    const { lastEventSeq } = await first.client.processManager.getServerInfo({});
    const seen = (await journalEvents(first, lastEventSeq)).map((e) => `${e.seq} ${e.program} ${e.detail.case}`);
    await killDaemon(first);

    const second = await start({ programs });
    const info = await second.client.processManager.getServerInfo({});
    assert.ok(info.lastEventSeq > lastEventSeq, `seqs continue (${info.lastEventSeq} > ${lastEventSeq})`);
    const resumed: { seq: bigint; program: string; kind: string; what: string }[] = [];
    const abort = new AbortController();
    for await (const item of second.client.processManager.watchEvents({ afterSeq: lastEventSeq - 2n }, { signal: abort.signal })) {
      assert.equal(item.kind.case, "event", "no gap: the journal reaches back across the restart");
      if (item.kind.case !== "event") break;
      const { seq, program, detail } = item.kind.value;
      resumed.push({ seq, program, kind: detail.case ?? "", what: detail.case === "stateChanged" ? detail.value.reason : "" });
      if (seq >= info.lastEventSeq) break;
    }
    abort.abort();
    assert.deepEqual(
      resumed.map((e) => e.seq),
      Array.from({ length: Number(info.lastEventSeq - lastEventSeq) + 2 }, (_, i) => lastEventSeq - 1n + BigInt(i)),
      "every seq once, old and new",
    );
    assert.deepEqual(
      resumed.slice(0, 2).map((e) => `${e.seq} ${e.program} ${e.kind}`),
      seen.slice(-2),
      "the old events, as they were",
    );
    assert.ok(
      resumed.some((e) => e.program === "one" && /re-adopted/.test(e.what)),
      "the re-adoption is journaled",
    );
  });
});

test("a corrupt state file and a torn journal line are reported and the daemon still starts", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const programs = { one: { command: ["sleep", "300"], ...COMMON } };
    const first = await start({ programs });
    owned.add((await waitForStates(first, (p) => p.state === ProcessState.RUNNING, "RUNNING")).values());
    const { lastEventSeq } = await first.client.processManager.getServerInfo({});
    await killDaemon(first);
    const statePath = join(home, "state", "state.json");
    const text = await readFile(statePath, "utf8");
    await writeFile(statePath, text.slice(0, Math.floor(text.length / 2))); // truncated
    await writeFile(join(home, "state", "events.jsonl"), `${await readFile(join(home, "state", "events.jsonl"), "utf8")}{"seq":`);

    const second = await start({ programs });
    await waitUntil(() => /state file .* is unusable .*moved to/.test(second.output()), 10_000, "the corrupt state file to be reported");
    assert.match(second.output(), /event journal: 1 damaged line/);
    const info = await second.client.processManager.getServerInfo({});
    assert.ok(info.lastEventSeq > lastEventSeq, "the journal itself survived");
    // Without saved state nothing is adopted: autostart starts a new run (the old one is the test's to kill).
    const now = await waitForStates(second, (p) => p.state === ProcessState.RUNNING, "RUNNING");
    owned.add(now.values());
  });
});
