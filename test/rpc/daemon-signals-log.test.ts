// The daemon's signals and its own log: SIGHUP re-reads --config and applies it (like corral
// reload), and with no config file is ignored; both are logged. Every state change, exit and
// FATAL is one line on the daemon's stderr, as text or (--log-format json) JSON.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { journalEvents, spawnDaemon, startTestDaemon, waitUntil, SLOW_START_MS } from "../helpers/daemon.js";
import { inSharedHome, listAll, waitForStates } from "../helpers/shared-home.js";

const sleeper = { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s" };

test("SIGHUP re-reads the config file and applies it, and says so in the daemon's log", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs: { a: sleeper } });
    owned.add((await waitForStates(daemon, (p) => p.state === ProcessState.RUNNING, "a RUNNING")).values());
    await writeFile(join(home, "corral.yaml"), JSON.stringify({ programs: { a: sleeper, b: sleeper } }));
    process.kill(daemon.pid, "SIGHUP");
    let after = await listAll(daemon);
    await waitUntil(async () => (after = await listAll(daemon)).get("b")?.state === ProcessState.RUNNING, 20_000, "b added and RUNNING");
    owned.add(after.values());
    assert.equal(after.get("a")?.state, ProcessState.RUNNING);
    await waitUntil(() => /reloaded \S+corral\.yaml: added b; changed -; removed -; restarted -/.test(daemon.output()), 10_000, "the reload in the log");
    assert.match(daemon.output(), /SIGHUP received: reloading /);
    assert.equal(daemon.child.exitCode, null, "the daemon lives on");

    // A config that does not load changes nothing and is logged.
    await writeFile(join(home, "corral.yaml"), "programs: {a: {command: 7}}");
    process.kill(daemon.pid, "SIGHUP");
    await waitUntil(() => /reload of \S+ on SIGHUP failed, the running config is unchanged: /.test(daemon.output()), 10_000, "the failed reload in the log");
    assert.equal((await daemon.client.processManager.listProcesses({})).processes.length, 2);
  });
});

test("a SIGHUP while the daemon starts up is not lost: it reloads once start-up is done", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ home, owned, start }) => {
    // The socket answers before start-up ends (autostart runs after it); the failpoint holds that
    // window open for 3 s, so the signal surely lands in it.
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs: { a: sleeper }, env: { CORRAL_FAILPOINTS: "daemon-init-delay-ms=3000" } });
    await writeFile(join(home, "corral.yaml"), JSON.stringify({ programs: { a: sleeper, b: sleeper } }));
    process.kill(daemon.pid, "SIGHUP");
    await waitUntil(() => /SIGHUP received during start-up: reloading once started/.test(daemon.output()), 10_000, "the SIGHUP noted during start-up");
    assert.doesNotMatch(daemon.output(), /daemon started with/, "the signal came before start-up ended");
    let after = await listAll(daemon);
    await waitUntil(async () => (after = await listAll(daemon)).get("b")?.state === ProcessState.RUNNING, 20_000, "b added and RUNNING");
    owned.add(after.values());
    await waitUntil(() => /reloaded \S+corral\.yaml: added b; changed -; removed -; restarted -/.test(daemon.output()), 10_000, "the reload in the log");
    assert.equal(daemon.child.exitCode, null, "the daemon lives on");
  });
});

test("SIGHUP without a config file is ignored and logged", { timeout: 180_000 }, async () => {
  const daemon = await startTestDaemon({ builtinExample: true, readyTimeoutMs: SLOW_START_MS });
  try {
    process.kill(daemon.pid, "SIGHUP");
    await waitUntil(
      () => /SIGHUP received: no --config file \(built-in example\): nothing to reload, ignored/.test(daemon.output()),
      10_000,
      "the ignored SIGHUP in the log",
    );
    assert.ok((await daemon.client.processManager.getServerInfo({})).pid === daemon.pid, "still answering");
  } finally {
    assert.deepEqual(await daemon.stop(), { code: 0, signal: null }, "an orderly exit on SIGTERM, not 129");
  }
});

test("--log-format json: every state change, exit and FATAL of this daemon is one JSON line on stderr", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ start }) => {
    const programs = {
      crash: { command: ["sh", "-c", "echo boom >&2; exit 3"], startsecs: "0s", autorestart: "never" },
      hopeless: { command: ["sh", "-c", "echo nope >&2; exit 1"], startsecs: "5s", startretries: 0 },
    };
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs, args: ["--log-format", "json"] });
    await waitForStates(daemon, (p) => p.state === (p.name === "crash" ? ProcessState.EXITED : ProcessState.FATAL), "crash EXITED, hopeless FATAL");
    const events = await journalEvents(daemon);
    const lastSeq = Number(events[events.length - 1]!.seq);
    const lines = () =>
      daemon
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await waitUntil(() => lines().some((line) => line.seq === lastSeq), 10_000, "the last event in the log");
    const logged = new Map(lines().map((line) => [line.seq, line]));
    // This daemon's events, each once (the first is "daemon started").
    for (const event of events.filter((e) => e.detail.case === "stateChanged" || e.detail.case === "processExited")) {
      assert.ok(logged.has(Number(event.seq)), `event ${event.seq} (${event.program} ${event.detail.case}) is logged`);
    }
    const fatal = lines().find((line) => line.program === "hopeless" && line.kind === "stateChanged" && line.to === "FATAL");
    assert.equal(fatal?.level, "error");
    const exit = lines().find((line) => line.program === "crash" && line.kind === "processExited");
    assert.equal(exit?.expected, false);
    assert.deepEqual(exit?.stderrTail, ["boom"]);
    assert.equal(exit?.reason, "exited with code 3 (unexpected)");
  });
});

test("the default text log: one line per event, with time, level and program", { timeout: 180_000 }, async () => {
  await inSharedHome(async ({ start }) => {
    const programs = { crash: { command: ["sh", "-c", "echo boom >&2; exit 3"], startsecs: "0s", autorestart: "never" } };
    const daemon = await start({ readyTimeoutMs: SLOW_START_MS, programs });
    await waitForStates(daemon, (p) => p.state === ProcessState.EXITED, "crash EXITED");
    await waitUntil(() => /exited pid \d+ \(run \d+\)/.test(daemon.output()), 10_000, "the exit in the log");
    const out = daemon.output();
    assert.match(out, /^\d{4}-\d\d-\d\dT\S+Z info corral: daemon started with 1 program\(s\)(; containment: .*)?$/m);
    assert.match(out, /^\S+Z info crash: STOPPED -> STARTING: start requested$/m);
    assert.match(out, /^\S+Z warn crash: exited pid \d+ \(run \d+\) after \d+\.\d s: exited with code 3 \(unexpected\); last stderr: boom$/m);
    assert.match(out, /^\S+Z info crash: RUNNING -> EXITED: exited with code 3 \(unexpected\); last stderr: boom$/m);
  });
});

test("--log-format with a bad value exits 2 naming the value and the choices", { timeout: 180_000 }, async () => {
  const bad = spawnDaemon(["--log-format", "xml"]);
  assert.equal((await bad.exited).code, 2);
  assert.match(bad.output(), /--log-format "xml": must be one of text, json/);
});
