// End-to-end tests of the `corral` CLI: the real bin/corral.js, run as a child process against
// a real daemon in a temp home, asserting on what a user sees (output and exit codes).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { isAlive, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral, corralBin } from "../helpers/cli.js";

// ticker writes a line to stdout and one to stderr every 100 ms; idle only starts when asked.
const programs = {
  ticker: {
    command: ["/bin/sh", "-c", 'i=0; while true; do i=$((i+1)); echo "tick $i"; echo "oops $i" >&2; sleep 0.1; done'],
    startsecs: "200ms",
    stop_timeout: "2s",
    labels: { group: "busy" },
  },
  idle: {
    command: ["sleep", "600"],
    autostart: false,
    startsecs: "200ms",
    stop_timeout: "2s",
    labels: { group: "lazy" },
  },
};

describe("corral CLI", () => {
  let daemon: TestDaemon;
  let address: string;

  const stateOf = async (name: string): Promise<ProcessState | undefined> => (await daemon.client.processManager.getProcess({ name })).process?.state;

  before(async () => {
    daemon = await startTestDaemon({ programs });
    address = daemon.address;
    await waitUntil(async () => (await stateOf("ticker")) === ProcessState.RUNNING, 10_000, "ticker RUNNING");
  });

  after(async () => {
    // SIGTERM makes the daemon stop every program it runs before it exits.
    await daemon?.stop();
  });

  test("status prints an aligned table with state, pid, uptime, restarts and reason", async () => {
    const { code, stdout, stderr } = await corral(["status"], address);
    assert.equal(code, 3, stderr); // idle is not RUNNING
    const lines = stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME\s+STATE\s+READY\s+PID\s+UPTIME\s+RESTARTS\s+REASON$/);
    const ticker = lines.find((l) => l.startsWith("ticker "));
    const idle = lines.find((l) => l.startsWith("idle "));
    assert.match(ticker ?? "", /^ticker\s+RUNNING\s+yes\s+\d+\s+\d+:\d\d:\d\d\s+0/);
    assert.match(idle ?? "", /^idle\s+STOPPED\s+-\s+-\s+-\s+0/);
    // Aligned: every row's STATE column starts where the header's does.
    const stateColumn = lines[0]!.indexOf("STATE");
    for (const line of lines.slice(1)) assert.match(line.slice(stateColumn), /^[A-Z]+\s/);
  });

  test("status --json prints a JSON array of programs, states by their short names", async () => {
    const { code, stdout } = await corral(["status", "--json"], address);
    assert.equal(code, 3);
    const parsed = JSON.parse(stdout) as { name: string; state: string }[];
    const byName = new Map(parsed.map((p) => [p.name, p]));
    assert.deepEqual([...byName.keys()], ["ticker", "idle"]);
    assert.equal(byName.get("ticker")!.state, "RUNNING");
  });

  test("status NAME of an unknown program exits 1 with NOT_FOUND", async () => {
    const { code, stderr } = await corral(["status", "nope"], address);
    assert.equal(code, 1);
    assert.match(stderr, /^corral: NOT_FOUND: /);
  });

  test("start and stop change a program's state", async () => {
    try {
      const started = await corral(["start", "idle"], address);
      assert.equal(started.code, 0, started.stderr);
      assert.match(started.stdout, /^idle: started \(pid \d+\)$/m);
      assert.equal(await stateOf("idle"), ProcessState.RUNNING);

      const stopped = await corral(["stop", "idle"], address);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /^idle: stopped \(pid \d+\)$/m);
      assert.equal(await stateOf("idle"), ProcessState.STOPPED);

      // Nothing to stop is not a stop: its own line and exit code 3 (QMI's ShutdownResult).
      const again = await corral(["stop", "idle"], address);
      assert.equal(again.code, 3, again.stderr);
      assert.match(again.stdout, /^idle: was not running \(nothing stopped\)$/m);
    } finally {
      await daemon.client.processManager.stopProcess({ name: "idle" }).catch(() => undefined);
    }
  });

  test("start --label and stop --label print a results table per program", async () => {
    try {
      const started = await corral(["start", "--label", "group=lazy"], address);
      assert.equal(started.code, 0, started.stderr);
      assert.match(started.stdout, /^NAME\s+RESULT\s+STATE\s+DETAIL$/m);
      assert.match(started.stdout, /^idle\s+ok\s+RUNNING\s+pid \d+$/m);
      assert.doesNotMatch(started.stdout, /^ticker/m);

      const stopped = await corral(["stop", "--label", "group=lazy", "--sequential"], address);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /^idle\s+ok\s+STOPPED\s+pid \d+: stopped$/m);
      const none = await corral(["stop", "--label", "group=lazy"], address);
      assert.equal(none.code, 3, none.stderr);
      assert.match(none.stdout, /^idle\s+ok\s+STOPPED\s+was not running$/m);
      assert.equal(await stateOf("idle"), ProcessState.STOPPED);
    } finally {
      await daemon.client.processManager.stopProcess({ name: "idle" }).catch(() => undefined);
    }
  });

  test("stop of an unknown program exits 1 with NOT_FOUND on stderr", async () => {
    const { code, stdout, stderr } = await corral(["stop", "no-such-program"], address);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /^corral: NOT_FOUND: .*no-such-program/m);
  });

  test("restart gives a program a new run", async () => {
    const before = (await daemon.client.processManager.getProcess({ name: "ticker" })).process!.run!.pid;
    const { code, stdout, stderr } = await corral(["restart", "ticker"], address);
    assert.equal(code, 0, stderr);
    const pid = Number(/^ticker: restarted \(pid (\d+)\)$/m.exec(stdout)?.[1]);
    assert.notEqual(pid, before);
    assert.equal(await stateOf("ticker"), ProcessState.RUNNING);
  });

  test("logs --tail N prints the last N lines of stdout, --stderr those of stderr", async () => {
    await waitUntil(async () => (await corral(["logs", "ticker", "--tail", "3"], address)).stdout.split("\n").length > 3, 5_000, "3 lines of ticker output");
    const out = await corral(["logs", "ticker", "--tail", "3"], address);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^tick \d+$/);

    const err = await corral(["logs", "ticker", "--tail", "2", "--stderr"], address);
    assert.equal(err.code, 0, err.stderr);
    assert.deepEqual(
      err.stdout
        .trimEnd()
        .split("\n")
        .map((l) => /^oops \d+$/.test(l)),
      [true, true],
    );
  });

  test("logs -f prints new output as it is written, stdout to stdout and stderr to stderr", async () => {
    const child = spawn(process.execPath, [corralBin, "logs", "ticker", "-f", "--tail", "0"], {
      env: { ...process.env, CORRAL_ADDRESS: address },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitUntil(() => /^tick \d+$/m.test(stdout) && /^oops \d+$/m.test(stderr), 5_000, "a followed line");
      assert.doesNotMatch(stdout, /oops/);
    } finally {
      // Our own child, by its pid: SIGTERM ends following like Ctrl-C does.
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
    }
    assert.equal(await exited, 0);
  });

  test("events --json prints one event per line with its seq, and ends after the backlog", async () => {
    const { code, stdout, stderr } = await corral(["events", "--json"], address);
    assert.equal(code, 0, stderr);
    const events = stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: number; program?: string });
    assert.ok(events.length > 0);
    const seqs = events.map((e) => e.seq);
    assert.ok(seqs.every((seq) => typeof seq === "number"));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.ok(events.some((e) => e.program === "ticker"));

    const after = seqs[seqs.length - 2]!;
    const rest = await corral(["events", "--json", "--after", String(after)], address);
    assert.equal(rest.code, 0, rest.stderr);
    const later = rest.stdout
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { seq: number }).seq);
    assert.ok(later.length >= 1 && later.every((s) => s > after));
  });

  test("info describes the daemon", async () => {
    const { code, stdout } = await corral(["info"], address);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^pid:\\s+${daemon.pid}$`, "m"));
    assert.match(stdout, /^programs:\s+2$/m);
  });

  test("an unreachable daemon exits 1 and says so", async () => {
    const missing = join(daemon.home, "no-daemon-here.sock");
    const { code, stderr } = await corral(["status", "--address", missing], address);
    assert.equal(code, 1);
    // The client's diagnosis (test/fixtures/connection-errors.json, SOCKET_MISSING).
    assert.equal(
      stderr,
      `corral: no daemon at ${missing}: the socket does not exist (start one with \`corral server\`, or check the address and CORRAL_HOME)\n`,
    );
  });

  test("bad usage exits 2 with the message and the command's usage", async () => {
    const badCommandLines = [
      ["frobnicate"],
      ["start"],
      ["logs", "ticker", "idle"],
      ["stop", "--all", "idle"],
      ["start", "idle", "--timeout", "soon"],
      ["status", "--bogus"],
    ];
    for (const args of badCommandLines) {
      const { code, stderr } = await corral(args, address);
      assert.equal(code, 2, `corral ${args.join(" ")}`);
      assert.match(stderr, /^corral: .+\nusage: corral /, `corral ${args.join(" ")}`);
    }
    assert.equal(await stateOf("idle"), ProcessState.STOPPED);
  });

  test("--version and help need no daemon", async () => {
    const version = await corral(["--version"], "/nonexistent.sock");
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^corral \d+\.\d+\.\d+/);
    const help = await corral(["help"], "/nonexistent.sock");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: corral/);
  });
});

describe("corral CLI: bulk results and shutdown", () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await startTestDaemon({
      programs: {
        one: { command: ["sleep", "600"], autostart: false, startsecs: "100ms", stop_timeout: "2s" },
        two: { command: ["sleep", "600"], autostart: false, startsecs: "100ms", stop_timeout: "2s" },
        broken: { command: ["/nonexistent/corral-test-binary"], autostart: false, startretries: 0 },
      },
    });
  });

  after(async () => {
    await daemon?.stop();
  });

  test("start --all prints one result per program and exits 1 when one failed", async () => {
    const { code, stdout } = await corral(["start", "--all"], daemon.address);
    assert.equal(code, 1);
    assert.match(stdout, /^one\s+ok\s+RUNNING\s+pid \d+$/m);
    assert.match(stdout, /^two\s+ok\s+RUNNING\s+pid \d+$/m);
    assert.match(stdout, /^broken\s+FAILED\s+FATAL\s+[A-Z_]+: .*ENOENT/m);
  });

  test("shutdown stops every program and returns once the daemon has exited", async () => {
    const pids = (await daemon.client.processManager.listProcesses({})).processes.filter((p) => p.state === ProcessState.RUNNING).map((p) => p.run!.pid);
    assert.equal(pids.length, 2);
    const { code, stdout, stderr } = await corral(["shutdown"], daemon.address);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /has shut down/);
    assert.ok(isAlive(daemon.pid) === false, "daemon process still alive");
    for (const pid of pids) assert.equal(isAlive(pid), false, `program pid ${pid} still alive`);
    const after = await corral(["status"], daemon.address);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /^corral: no daemon at .*: the socket does not exist/);
  });
});
