// End-to-end tests of `corral task ...`: the real bin/corral.js against a real daemon that loads
// the test task module; assertions on output and exit codes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral, corralBin } from "../helpers/cli.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");

describe("corral task CLI", () => {
  let daemon: TestDaemon;
  const run = (...args: string[]) => corral(["task", ...args], daemon.address);

  before(async () => {
    daemon = await startTestDaemon({ configYaml: JSON.stringify({ programs: {}, tasks: { modules: [fixtureModule] } }) });
  });

  after(async () => {
    await daemon?.stop();
  });

  test("types lists the task types with signals and methods", async () => {
    const { code, stdout } = await run("types");
    assert.equal(code, 0);
    assert.match(stdout, /^TYPE\s+KIND\s+SIGNALS\s+METHODS\s+SOURCE/m);
    assert.match(stdout, /^counter\s+-\s+tick\s+reset,peek,explode\s/m);
    assert.match(stdout, /^exec\s+-\s+log\s+-\s+builtin/m);
  });

  test("create, start, status, settings, call, stop, join, ls and rm", async () => {
    assert.match((await run("create", "c1", "counter", "--args", '{"interval_ms": 60000}')).stdout, /c1 \(counter\): created/);
    assert.match((await run("settings", "c1", "--set", '{"step": 4}')).stdout, /pending settings of c1 set/);
    assert.equal((await run("settings", "c1", "--pending")).stdout, '{"step":4}\n');
    assert.match((await run("start", "c1")).stdout, /running/);
    let status = "";
    for (let i = 0; i < 100 && !status.includes("count"); i++) status = (await run("status", "c1")).stdout;
    assert.equal(status, '{"count":4,"step":4}\n');
    assert.equal((await run("settings", "c1")).stdout, '{"step":4}\n');
    assert.equal((await run("call", "c1", "peek")).stdout, "4\n");
    assert.match((await run("ls")).stdout, /^c1\s+counter\s+running\s+-\s/m);
    await run("stop", "c1");
    const joined = await run("join", "c1", "--timeout", "10s");
    assert.equal(joined.code, 0);
    assert.match(joined.stdout, /c1 \(counter\): stopped/);
    assert.match((await run("rm", "c1")).stdout, /removed c1/);
  });

  test("join exits 1 for a failed task and prints its error", async () => {
    await run("create", "f1", "failing", "--start");
    const joined = await run("join", "f1", "--timeout", "10s");
    assert.equal(joined.code, 1);
    assert.match(joined.stdout, /failed: calibration diverged/);
    await run("rm", "f1");
  });

  test("lock prints a token; without it driving commands fail, with --token or $CORRAL_TASK_TOKEN they work", async () => {
    await run("create", "l1", "quick");
    const lock = await run("lock", "l1");
    assert.equal(lock.code, 0);
    const token = lock.stdout.trim();
    assert.ok(token.length > 0);
    const refused = await run("start", "l1");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /FAILED_PRECONDITION: .*locked by another client/);
    assert.equal((await run("lock", "l1")).code, 1);
    assert.equal((await corral(["task", "start", "l1"], daemon.address, { CORRAL_TASK_TOKEN: token })).code, 0);
    assert.match((await run("unlock", "l1", "--token", token)).stdout, /l1 unlocked/);
    assert.match((await run("unlock", "l1", "--force")).stdout, /was not locked/);
    await run("rm", "l1");
  });

  test("bad JSON is a usage error (exit 2); errors of the daemon are named", async () => {
    const bad = await run("create", "x", "counter", "--args", "{nope");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--args: not valid JSON/);
    const missing = await run("status", "ghost");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND: task "ghost" not found/);
  });

  test("watch streams signals as JSON lines until interrupted", async () => {
    // --after 0: w1's signals held so far first, then live ones, so it does not matter whether the
    // watch is subscribed before the task runs (a live-only watch needed a sleep to be in time).
    const child = spawn(process.execPath, [corralBin, "task", "watch", "w1", "--json", "--after", "0"], {
      env: { ...process.env, CORRAL_ADDRESS: daemon.address },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      await run("create", "w1", "quick", "--start");
      await waitUntil(() => out.includes('"completed"'), 15_000, "the watch to print w1's completion");
      const signals = out
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { name: string; seq: number; task: string });
      assert.deepEqual(
        signals.slice(0, 4).map((s) => s.name),
        ["created", "started", "status_updated", "completed"],
      );
      // seq is a number here as in `events --json` (one shape per object: TaskSignal).
      assert.ok(signals.every((s) => typeof s.seq === "number" && s.task === "w1"));
    } finally {
      child.kill("SIGINT");
      await new Promise((resolve) => child.once("exit", resolve));
      await run("rm", "w1");
    }
  });
});
