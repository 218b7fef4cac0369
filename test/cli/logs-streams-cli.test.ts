// End-to-end tests of `corral logs` with gaffer's streams: --stream picks a label or a custom
// stream by name, --prefix starts every line with its stream's label; the real bin/corral.js
// against a real daemon.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral, corralBin } from "../helpers/cli.js";

const programs = {
  gaffer: {
    command: ["/bin/sh", "-c", 'echo oops >&2; i=0; while :; do i=$((i+1)); echo "p $i" >&3; echo "tick $i"; sleep 0.1; done'],
    startsecs: "0s",
    stop_timeout: "2s",
    redirect_output: ["out", "err"],
    custom_streams: ["progress"],
  },
};

describe("corral logs with labels and custom streams", () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await startTestDaemon({ programs });
    await waitUntil(
      async () => (await daemon.client.processManager.getProcess({ name: "gaffer" })).process?.state === ProcessState.RUNNING,
      30_000,
      "gaffer RUNNING",
    );
  });

  after(async () => {
    await daemon?.stop();
  });

  test("--stream NAME --tail N --prefix prints that stream's last lines, each prefixed with its label", async () => {
    await waitUntil(
      async () => (await corral(["logs", "gaffer", "--stream", "progress", "--tail", "3"], daemon.address)).stdout.split("\n").length > 3,
      30_000,
      "3 progress lines",
    );
    const { code, stdout, stderr } = await corral(["logs", "gaffer", "--stream", "progress", "--tail", "3", "--prefix"], daemon.address);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^\[progress\] p \d+$/);
    const out = await corral(["logs", "gaffer", "--stream", "out", "--tail", "1", "--prefix"], daemon.address);
    assert.match(out.stdout, /^\[out\] tick \d+\n$/, "stdout by its label, prefixed with it");
  });

  test("-f --stream A --stream B --prefix follows both, each line saying its stream", async () => {
    const child = spawn(process.execPath, [corralBin, "logs", "gaffer", "-f", "--tail", "1", "--stream", "progress", "--stream", "err", "--prefix"], {
      env: { ...process.env, CORRAL_ADDRESS: daemon.address },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitUntil(() => /^\[err\] oops$/m.test(stdout) && (stdout.match(/^\[progress\] p \d+$/gm)?.length ?? 0) >= 2, 30_000, "both streams followed");
      for (const line of stdout.trimEnd().split("\n")) assert.match(line, /^\[(progress|err)\] /, `every line prefixed: ${JSON.stringify(line)}`);
    } finally {
      // Our own child, by its pid: SIGTERM ends following like Ctrl-C does.
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
    }
    assert.equal(await exited, 0);
  });

  test("--stream with a name the program does not have fails, naming its streams", async () => {
    const { code, stderr } = await corral(["logs", "gaffer", "--stream", "nope"], daemon.address);
    assert.notEqual(code, 0);
    assert.match(stderr, /nope.*its streams are out \(stdout\), err \(stderr\), progress/);
  });
});
