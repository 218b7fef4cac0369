// Two daemons on two hosts, driven by the CLI from host A with one config: status shows both
// hosts' programs with their host, start/stop --all act on both (stop in reverse host order),
// start NAME reaches the program's host, events --all-hosts tags each event with its host, and
// a stopped daemon makes its host "unreachable" for its programs while the other still acts.
// The same scenario runs on two network namespaces (when they can be made) and on 127.0.0.2/3.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { spawnDaemon, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corralBin } from "../helpers/cli.js";
import { cliEnv, corralOn, loopbackHosts, netnsHosts, type TwoHosts } from "../helpers/multihost.js";
import { makeTestPki } from "../helpers/pki.js";

const SLEEPER = { command: ["sleep", "300"], startsecs: 0, stop_timeout: "2s" };

/** TLS for the daemons' listeners and the clients' hosts entries (one server certificate, for "localhost"). */
interface Secure {
  server: Record<string, unknown>;
  client: Record<string, unknown>;
}

async function makeSecure(dir: string): Promise<Secure> {
  const pki = await makeTestPki(dir);
  const tokenFile = join(dir, "ops.token");
  await writeFile(tokenFile, "multihost-test-token\n", { mode: 0o600 });
  return {
    server: { tls: { cert: pki.server.cert, key: pki.server.key }, auth: { tokens: [{ name: "ops", file: tokenFile, role: "admin" }] } },
    // The certificate names localhost, not the namespaces' 10.77.0.x: the client checks that name.
    client: { tls: { ca: pki.ca, server_name: "localhost" }, token_file: tokenFile },
  };
}

function configYaml(hosts: TwoHosts, secure?: Secure): string {
  return JSON.stringify({
    // Plain loopback TCP is read-only without server.auth (secure by default): these daemons say auth: none.
    server: { allow_adhoc: true, ...(secure?.server ?? { auth: "none" }) },
    hosts: { lab1: { address: hosts.addressA, ...secure?.client }, lab2: { address: hosts.addressB, ...secure?.client } },
    programs: {
      a1: { ...SLEEPER, host: "lab1" },
      b1: { ...SLEEPER, command: "echo hello from b1; exec sleep 300", host: "lab2" },
      b2: { ...SLEEPER, host: "lab2", autostart: false },
    },
  });
}

async function stateOn(daemon: TestDaemon, name: string): Promise<ProcessState | undefined> {
  return (await daemon.client.processManager.getProcess({ name })).process?.state;
}

/** Rows of a table printed by the CLI, keyed by their first column. */
function rows(stdout: string): Map<string, string[]> {
  return new Map(
    stdout
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => {
        const cells = line.split(/\s{2,}/);
        return [cells[0]!, cells];
      }),
  );
}

/**
 * The scenario. In netns mode the daemons find their own name by QMI's rule (their address is
 * a local interface's) and the CLI finds "local" the same way; on loopback both addresses are
 * this machine, so names are given (--host-name, $CORRAL_HOST_NAME).
 */
async function twoHostScenario(t: TestContext, hosts: TwoHosts, options: { tls: boolean }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "corral-multihost-"));
  const daemons: TestDaemon[] = [];
  t.after(async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    hosts.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  const secure = options.tls ? await makeSecure(dir) : undefined;
  const config = configYaml(hosts, secure);
  const configPath = join(dir, "corral.yaml");
  await writeFile(configPath, config);
  const named = hosts.mode === "loopback";
  const daemonA = await startTestDaemon({ configYaml: config, wrapper: hosts.wrapA, args: named ? ["--host-name", "lab1"] : [] });
  daemons.push(daemonA);
  const daemonB = await startTestDaemon({ configYaml: config, wrapper: hosts.wrapB, args: named ? ["--host-name", "lab2"] : [] });
  daemons.push(daemonB);
  const cli = (args: string[]) => corralOn(hosts.wrapA, ["--config", configPath, "--host-timeout", "3s", ...args], named ? { CORRAL_HOST_NAME: "lab1" } : {});

  await t.test("each daemon knows its host and listens on its hosts entry's address", async () => {
    const infoA = await daemonA.client.processManager.getServerInfo({});
    const infoB = await daemonB.client.processManager.getServerInfo({});
    assert.ok(infoA.listen.includes(hosts.addressA), `A listens on ${infoA.listen.join(", ")}`);
    assert.ok(infoB.listen.includes(hosts.addressB), `B listens on ${infoB.listen.join(", ")}`);
    assert.match(daemonA.output(), /host name: lab1 \(/);
    assert.match(daemonB.output(), /host name: lab2 \(/);
    await waitUntil(
      async () => (await stateOn(daemonA, "a1")) === ProcessState.RUNNING && (await stateOn(daemonB, "b1")) === ProcessState.RUNNING,
      15_000,
      "a1 on A and b1 on B RUNNING",
    );
    // Each daemon runs only its own: A lists b1 as remote and never starts it.
    assert.equal((await daemonA.client.processManager.getProcess({ name: "b1" })).process?.remote, true);
  });

  await t.test("status from host A shows both hosts' programs with a HOST column", async () => {
    const { code, stdout, stderr } = await cli(["status"]);
    assert.equal(code, 3, stderr); // b2 is not RUNNING
    assert.match(stdout.split("\n")[0]!, /^NAME\s+HOST\s+STATE\s/);
    const table = rows(stdout);
    assert.deepEqual([...table.keys()], ["a1", "b1", "b2"]);
    assert.deepEqual(table.get("a1")!.slice(1, 3), ["lab1", "RUNNING"]);
    assert.deepEqual(table.get("b1")!.slice(1, 3), ["lab2", "RUNNING"]);
    assert.deepEqual(table.get("b2")!.slice(1, 3), ["lab2", "STOPPED"]);
    const json = await cli(["status", "--json"]);
    const processes = JSON.parse(json.stdout) as { name: string; host: string; remote: boolean }[];
    assert.deepEqual(
      processes.map((p) => [p.name, p.host, p.remote]),
      [
        ["a1", "lab1", false],
        ["b1", "lab2", false],
        ["b2", "lab2", false],
      ],
    );
  });

  await t.test("--local limits status to this host", async () => {
    const { code, stdout, stderr } = await cli(["--local", "status"]);
    assert.equal(code, 0, stderr);
    assert.deepEqual([...rows(stdout).keys()], ["a1"]);
  });

  await t.test("a one-daemon command goes to the host named by --host", async () => {
    const { code, stdout, stderr } = await cli(["--host", "lab2", "info"]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`^address:\\s+${hosts.addressB.replaceAll(".", "\\.")}$`, "m"));
    const none = await cli(["--host", "lab9", "status"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /unknown host "lab9" \(hosts: lab1, lab2\)/);
  });

  await t.test("a program the config does not know (ad-hoc) is found on the host that runs it", async () => {
    const created = await cli(["--host", "lab2", "create", "job", "--", "sleep", "300"]);
    assert.equal(created.code, 0, created.stderr);
    await waitUntil(async () => (await stateOn(daemonB, "job")) === ProcessState.RUNNING, 10_000, "job RUNNING on B");
    const status = await cli(["status", "job"]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(rows(status.stdout).get("job")!.slice(1, 3), ["lab2", "RUNNING"]);
    const stopped = await cli(["stop", "job"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(await stateOn(daemonB, "job"), ProcessState.STOPPED);
    const deleted = await cli(["--host", "lab2", "delete", "job"]);
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  await t.test("start NAME reaches the program's host", async () => {
    const { code, stdout, stderr } = await cli(["start", "b2"]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^b2: started \(pid \d+\)$/m);
    assert.equal(await stateOn(daemonB, "b2"), ProcessState.RUNNING);
    assert.equal((await daemonA.client.processManager.getProcess({ name: "b2" })).process?.state, ProcessState.STOPPED);
  });

  await t.test("restart, signal and logs of a program go to its host", async () => {
    const before = (await daemonB.client.processManager.getProcess({ name: "b1" })).process?.run?.runId;
    const restarted = await cli(["restart", "b1"]);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /^b1: restarted \(pid \d+\)$/m);
    assert.notEqual((await daemonB.client.processManager.getProcess({ name: "b1" })).process?.run?.runId, before);
    const signalled = await cli(["signal", "a1", "CONT"]);
    assert.equal(signalled.code, 0, signalled.stderr);
    assert.match(signalled.stdout, /^a1: sent CONT to pid \d+$/m);
    await waitUntil(async () => (await cli(["logs", "b1"])).stdout.includes("hello from b1"), 10_000, "b1's output through the CLI");
    const unknown = await cli(["restart", "nope"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nope: NOT_FOUND: no host in scope \(lab1, lab2\)/);
  });

  await t.test("stop --all stops both hosts, host B's programs first; start --all starts both, host A first", async () => {
    const stopped = await cli(["stop", "--all"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.deepEqual(
      [...rows(stopped.stdout).values()].map((row) => row.slice(0, 4).join(" ")),
      ["b2 lab2 ok STOPPED", "b1 lab2 ok STOPPED", "a1 lab1 ok STOPPED"],
    );
    for (const [daemon, name] of [
      [daemonA, "a1"],
      [daemonB, "b1"],
      [daemonB, "b2"],
    ] as const)
      assert.equal(await stateOn(daemon, name), ProcessState.STOPPED, name);
    const started = await cli(["start", "--all"]);
    assert.equal(started.code, 0, started.stderr);
    assert.deepEqual(
      [...rows(started.stdout).values()].map((row) => row.slice(0, 4).join(" ")),
      ["a1 lab1 ok RUNNING", "b1 lab2 ok RUNNING", "b2 lab2 ok RUNNING"],
    );
    for (const [daemon, name] of [
      [daemonA, "a1"],
      [daemonB, "b1"],
      [daemonB, "b2"],
    ] as const)
      assert.equal(await stateOn(daemon, name), ProcessState.RUNNING, name);
  });

  await t.test("logs with no name follows every program of every host, each line prefixed by host, program and stream", async () => {
    const [command, ...prefix] = [...hosts.wrapA, process.execPath];
    let text = "";
    const follower = spawn(command!, [...prefix, corralBin, "--config", configPath, "logs", "--tail", "5"], {
      env: cliEnv(named ? { CORRAL_HOST_NAME: "lab1" } : {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    follower.stdout.on("data", (data: Buffer) => (text += data.toString("utf8")));
    const exited = new Promise((resolve) => follower.once("exit", resolve));
    try {
      await waitUntil(() => /^lab2 b1 +out \| hello from b1$/m.test(text), 15_000, `b1's line tagged with lab2; got ${JSON.stringify(text)}`);
      assert.doesNotMatch(text, /^lab1 b1/m, "b1 runs on lab2 only: host A does not show it");
    } finally {
      // Our own child, by its pid: SIGTERM ends following like Ctrl-C does.
      if (follower.pid !== undefined && follower.exitCode === null) process.kill(follower.pid, "SIGTERM");
      await exited;
    }
  });

  await t.test("events --all-hosts tags every event with its host", async () => {
    const { code, stdout, stderr } = await cli(["events", "--all-hosts"]);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split("\n");
    assert.ok(
      lines.some((line) => /^lab1\s+\S+ \S+\s+#\d+\s+a1 run \d+\s+started, pid \d+$/.test(line)),
      stdout,
    );
    assert.ok(
      lines.some((line) => /^lab2\s+\S+ \S+\s+#\d+\s+b2 run \d+\s+started, pid \d+$/.test(line)),
      stdout,
    );
    assert.ok(
      lines.every((line) => /^lab[12]\s/.test(line)),
      stdout,
    );
    const json = await cli(["events", "--all-hosts", "--json"]);
    const events = json.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { host: string; program?: string });
    assert.ok(events.some((event) => event.host === "lab2" && event.program === "b1"));
    assert.ok(events.every((event) => (event.program === "b1" || event.program === "b2" ? event.host === "lab2" : true)));
  });

  await t.test("events --all-hosts --follow streams both hosts' new events as they happen", async () => {
    const [command, ...prefix] = [...hosts.wrapA, process.execPath];
    const env = cliEnv(named ? { CORRAL_HOST_NAME: "lab1" } : {});
    const lastA = (await daemonA.client.processManager.getServerInfo({})).lastEventSeq;
    const lastB = (await daemonB.client.processManager.getServerInfo({})).lastEventSeq;
    let text = "";
    const follower = spawn(command!, [...prefix, corralBin, "--config", configPath, "events", "--all-hosts", "--follow"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const newEvent = (host: string, program: string, after: bigint) =>
      [...text.matchAll(new RegExp(`^${host}\\s.*#(\\d+)\\s+${program} run \\d+\\s+started`, "gm"))].some((match) => BigInt(match[1]!) > after);
    follower.stdout.on("data", (data: Buffer) => (text += data.toString("utf8")));
    const exited = new Promise((resolve) => follower.once("exit", resolve));
    try {
      await daemonA.client.processManager.restartProcess({ name: "a1" });
      await daemonB.client.processManager.restartProcess({ name: "b2" });
      await waitUntil(() => newEvent("lab1", "a1", lastA) && newEvent("lab2", "b2", lastB), 15_000, "new events from both hosts, tagged");
    } finally {
      follower.kill("SIGINT"); // Ctrl-C ends --follow
      await exited;
    }
  });

  await t.test("a daemon that does not answer (SIGSTOP) makes its host unreachable once --host-timeout has passed", async () => {
    process.kill(daemonB.pid, "SIGSTOP"); // our own child, by its pid
    try {
      const began = Date.now();
      const status = await cli(["status"]);
      assert.ok(Date.now() - began < 20_000, "status answered soon after the host deadline");
      assert.equal(status.code, 1);
      const table = rows(status.stdout);
      assert.deepEqual(table.get("a1")!.slice(1, 3), ["lab1", "RUNNING"]);
      assert.equal(table.get("b1")!.at(-1), "host lab2 unreachable: no answer within 3000 ms");
    } finally {
      process.kill(daemonB.pid, "SIGCONT");
    }
  });

  await t.test("with daemon B stopped, host B is unreachable for its programs; host A still acts; exit code 1", async () => {
    await daemonB.stop();
    const began = Date.now();
    const status = await cli(["status"]);
    assert.ok(Date.now() - began < 20_000, "status answered within the host deadline");
    assert.equal(status.code, 1);
    const table = rows(status.stdout);
    assert.deepEqual(table.get("a1")!.slice(1, 3), ["lab1", "RUNNING"]);
    for (const name of ["b1", "b2"]) {
      assert.deepEqual(table.get(name)!.slice(1, 3), ["lab2", "UNKNOWN"]);
      assert.match(table.get(name)!.at(-1)!, /^host lab2 unreachable: /);
    }
    const stopAll = await cli(["stop", "--all"]);
    assert.equal(stopAll.code, 1);
    assert.match(stopAll.stdout, /^a1\s+lab1\s+ok\s+STOPPED/m);
    assert.match(stopAll.stdout, /^b1\s+lab2\s+FAILED\s+UNKNOWN\s+host lab2 unreachable: /m);
    assert.equal(await stateOn(daemonA, "a1"), ProcessState.STOPPED);
    const startOne = await cli(["start", "b1", "a1"]);
    assert.equal(startOne.code, 1);
    assert.match(startOne.stderr, /^corral: b1: host lab2 unreachable: /m);
    assert.match(startOne.stdout, /^a1: started/m);
    assert.equal(await stateOn(daemonA, "a1"), ProcessState.RUNNING);
  });
}

describe("two hosts, one config, the CLI on host A", () => {
  test("on two loopback addresses (127.0.0.2, 127.0.0.3), plain TCP", async (t) => {
    await twoHostScenario(t, await loopbackHosts(), { tls: false });
  });

  test("on two network namespaces joined by a veth pair, over TLS with a token", async (t) => {
    const hosts = netnsHosts();
    if ("skip" in hosts) {
      t.skip(hosts.skip);
      return;
    }
    await twoHostScenario(t, hosts, { tls: true });
  });

  test("a program without host runs on every host: status shows it per host, start/stop act on each, --local on this one", async (t) => {
    const hosts = await loopbackHosts();
    const config = JSON.stringify({
      server: { auth: "none" },
      hosts: { lab1: { address: hosts.addressA }, lab2: { address: hosts.addressB } },
      programs: { common: { ...SLEEPER, autostart: false } },
    });
    const dir = await mkdtemp(join(tmpdir(), "corral-multihost-"));
    const daemons: TestDaemon[] = [];
    t.after(async () => {
      await Promise.all(daemons.map((daemon) => daemon.stop()));
      await rm(dir, { recursive: true, force: true });
    });
    const configPath = join(dir, "corral.yaml");
    await writeFile(configPath, config);
    for (const name of ["lab1", "lab2"]) daemons.push(await startTestDaemon({ configYaml: config, args: ["--host-name", name] }));
    const [daemonA, daemonB] = daemons as [TestDaemon, TestDaemon];
    const cli = (args: string[]) => corralOn([], ["--config", configPath, ...args], { CORRAL_HOST_NAME: "lab1" });

    const started = await cli(["start", "common"]);
    assert.equal(started.code, 0, started.stderr);
    assert.equal((started.stdout.match(/^common: started/gm) ?? []).length, 2, started.stdout);
    assert.equal(await stateOn(daemonA, "common"), ProcessState.RUNNING);
    assert.equal(await stateOn(daemonB, "common"), ProcessState.RUNNING);
    const status = await cli(["status"]);
    assert.deepEqual(
      status.stdout
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((line) => line.split(/\s+/).slice(0, 3).join(" ")),
      ["common lab1 RUNNING", "common lab2 RUNNING"],
    );
    const stopped = await cli(["--local", "stop", "common"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(await stateOn(daemonA, "common"), ProcessState.STOPPED);
    assert.equal(await stateOn(daemonB, "common"), ProcessState.RUNNING);
    const logs = await cli(["logs", "common"]);
    assert.equal(logs.code, 2);
    assert.match(logs.stderr, /common runs on several hosts \(lab1, lab2\): say which with --host NAME or --local/);
  });

  test("a daemon whose config has several hosts on this machine refuses to guess its name", async () => {
    const hosts = await loopbackHosts();
    const dir = await mkdtemp(join(tmpdir(), "corral-multihost-"));
    try {
      await writeFile(join(dir, "corral.yaml"), configYaml(hosts));
      const daemon = spawnDaemon(["--home", dir, "--config", join(dir, "corral.yaml")]);
      const exit = await daemon.exited;
      assert.equal(exit.code, 2, daemon.output());
      assert.match(daemon.output(), /matches several hosts of the config: lab1 \(127\.0\.0\.2:\d+: 127\.0\.0\.2 is loopback\), lab2 .*--host-name NAME/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
