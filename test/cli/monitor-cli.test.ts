// End-to-end tests of the monitor commands of the `corral` CLI (stats, ps, zombies, run): the
// real bin/corral.js against a real daemon; assertions on output and exit codes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral, corralBin } from "../helpers/cli.js";

const MARKER = "corral-cli-ps-marker-51c9";

describe("corral stats, top, ps, zombies, run", () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startTestDaemon({
      programs: {
        marked: { command: ["/bin/sh", "-c", `sleep 600; : ${MARKER}`], startsecs: "0s", stop_timeout: "2s" },
        burner: { command: [process.execPath, "-e", "for (;;) {}"], autostart: false, startsecs: "0s", stop_timeout: "2s" },
      },
    });
    await waitUntil(async () => ((await daemon.client.processManager.getProcess({ name: "marked" })).process?.run?.pid ?? 0) > 0, 10_000, "marked running");
  });
  after(async () => {
    await daemon?.stop();
  });

  test("stats NAME prints the program's CPU, memory, threads and fds", async () => {
    const { code, stdout, stderr } = await corral(["stats", "marked", "--interval", "200ms"], daemon.address);
    assert.equal(code, 0, stderr);
    const [header, row] = stdout.trim().split("\n");
    assert.match(header!, /PID\s+NAME\s+S\s+CPU%\s+RSS\s+VSZ\s+THR\s+FDS\s+UPTIME/);
    assert.match(row!, /^marked\s+\d+\s+sh\s+S\s+\d+\.\d\s+\S+\s+\S+\s+1\s+\d+/);
  });

  test("top --sort cpu without a terminal prints one snapshot of every program, busiest first, and exits", async () => {
    const pm = daemon.client.processManager;
    await pm.startProcess({ name: "burner" });
    try {
      const { code, stdout, stderr } = await corral(["top", "--interval", "1s", "--sort", "cpu"], daemon.address);
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stdout, /\x1b/, "no terminal control codes when not a terminal");
      const lines = stdout.trimEnd().split("\n");
      assert.match(lines[0]!, /^corral top - .* - 2 programs, 2 running - CPU \d+\.\d% - RSS \S+$/);
      assert.match(lines[2]!, /^NAME\s+STATE\s+PID\s+CPU%\s+RSS\s+THR\s+FDS\s+PROCS\s+UPTIME$/);
      assert.equal(lines.length, 5, stdout);
      const burner = /^burner\s+RUNNING\s+\d+\s+(\d+\.\d)\s+\S+\s+\d+\s+\d+\s+1\s+\d+:\d\d:\d\d$/.exec(lines[3]!);
      assert.ok(burner, `the busy program comes first: ${lines[3]}`);
      // A busy loop's share of a core depends on the machine's load (20 % at load 25 on 2 cores);
      // what the order promises is that it is above the sleeping program's.
      const marked = /^marked\s+RUNNING\s+\d+\s+(\d+\.\d)\s+\S+\s+\d+\s+\d+\s+2\s+/.exec(lines[4]!);
      assert.ok(marked, `marked: sh and its sleep: ${lines[4]}`);
      assert.ok(Number(burner[1]) > Number(marked[1]) && Number(burner[1]) > 1, `burner CPU ${burner[1]}, marked ${marked[1]}`);
    } finally {
      await pm.stopProcess({ name: "burner" });
    }
    const { stdout } = await corral(["top", "--interval", "200ms"], daemon.address);
    assert.match(stdout, /^burner\s+STOPPED\s+-\s+-\s+-/m, "a stopped program is listed without figures");
  });

  test("top on a terminal redraws each interval within the terminal's width and quits on q", async () => {
    // script(1) gives the CLI a pseudo-terminal (50 columns wide); what we write to its stdin are key presses.
    const child = spawn("script", ["-qfec", `stty cols 50 rows 30; ${process.execPath} ${corralBin} top --interval 200ms`, "/dev/null"], {
      env: { ...process.env, CORRAL_ADDRESS: daemon.address },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (data: Buffer) => (output += data.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitUntil(() => (output.match(/corral top - /g) ?? []).length >= 3, 15_000, `three frames; got: ${JSON.stringify(output)}`);
      // Each frame goes home, ends every line by erasing to its end and the screen below its last.
      const frames = output.split("\x1b[H").slice(1);
      assert.ok(frames.length >= 3);
      for (const frame of frames.slice(0, -1)) {
        assert.ok(frame.endsWith("q: quit\x1b[K\x1b[J"), `a frame ends by erasing below it: ${JSON.stringify(frame)}`);
        // Never wider than the terminal (cut, not wrapped), so the frame keeps its place.
        for (const line of frame.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").split(/\r?\n/))
          assert.ok(line.length <= 50, `wider than 50 columns: ${JSON.stringify(line)}`);
      }
      assert.match(output, /q: quit/);
      child.stdin.write("q");
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 10_000))]);
      assert.equal(code, 0);
      assert.match(output, /\x1b\[\?25h/, "the cursor is shown again");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  test("stats of a pid that does not exist fails with NOT_FOUND", async () => {
    const { code, stderr } = await corral(["stats", "99999999"], daemon.address);
    assert.equal(code, 1);
    assert.match(stderr, /NOT_FOUND/);
  });

  test("ps finds a program's process by its command line, and not itself", async () => {
    const { code, stdout } = await corral(["ps", MARKER.toUpperCase()], daemon.address);
    assert.equal(code, 0);
    const lines = stdout.trim().split("\n");
    assert.equal(lines.length, 2, stdout);
    assert.match(lines[1]!, new RegExp(`marked\\s+/bin/sh -c sleep 600; : ${MARKER}`));
  });

  test("zombies exits 0", async () => {
    const { code } = await corral(["zombies"], daemon.address);
    assert.equal(code, 0);
  });

  test("run streams output and exits with the command's code", async () => {
    const { code, stdout, stderr } = await corral(["run", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"], daemon.address);
    assert.equal(code, 3);
    assert.equal(stdout, "out\n");
    assert.equal(stderr, "err\n");
  });

  test("run exits 124 when no progress was made in time", async () => {
    const { code, stderr } = await corral(
      ["run", "--inactivity", "500ms", "--progress", "^done", "--", process.execPath, "-e", "setInterval(() => console.log('busy'), 50)"],
      daemon.address,
    );
    assert.equal(code, 124);
    assert.match(stderr, /inactivity timeout/);
  });

  test("run of a missing executable exits 127", async () => {
    const { code, stderr } = await corral(["run", "--", "/nonexistent/corral-missing"], daemon.address);
    assert.equal(code, 127);
    assert.match(stderr, /ENOENT/);
  });
});
