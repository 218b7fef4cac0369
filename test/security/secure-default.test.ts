// Secure by default: a TCP listener without server.auth serves reads only (viewer); mutating calls
// are PERMISSION_DENIED, naming server.auth, unless the config says `server.auth: none`, which
// every start warns about. ApplyConfig with a path never quotes the file it was made to read.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ProcessState, Status, connect, type CorralClient } from "../../client/ts/index.js";
import { corral } from "../helpers/cli.js";
import { rpcError, startTestDaemon, tcpAddress, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const SLEEPER = { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s" };
let dir: string;
const clients: CorralClient[] = [];
const daemons: TestDaemon[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-secure-default-"));
});

after(async () => {
  for (const client of clients) client.close();
  for (const daemon of daemons) await daemon.stop();
  await rm(dir, { recursive: true, force: true });
});

async function daemonWith(server: Record<string, unknown>): Promise<{ daemon: TestDaemon; tcp: CorralClient; address: string }> {
  const daemon = await startTestDaemon({ configYaml: JSON.stringify({ server: { listen: ["127.0.0.1:0"], ...server }, programs: { sleeper: SLEEPER } }) });
  daemons.push(daemon);
  await waitUntil(
    async () => (await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state === ProcessState.RUNNING,
    15_000,
    "sleeper RUNNING",
  );
  const address = await tcpAddress(daemon);
  const tcp = connect({ address });
  clients.push(tcp);
  return { daemon, tcp, address };
}

test("a loopback TCP listener without server.auth is read-only: reads answer, mutating calls are PERMISSION_DENIED naming server.auth", async () => {
  const { daemon, tcp, address } = await daemonWith({});
  assert.match(daemon.output(), /corral daemon listening/);
  assert.doesNotMatch(daemon.output(), /server\.auth: none/);
  assert.equal((await tcp.processManager.getServerInfo({})).pid, daemon.pid);
  assert.deepEqual(
    (await tcp.processManager.listProcesses({})).processes.map((p) => p.name),
    ["sleeper"],
  );

  for (const [what, call] of [
    ["StopProcess", tcp.processManager.stopProcess({ name: "sleeper" })],
    ["Shutdown", tcp.processManager.shutdown({})],
    ["ApplyConfig", tcp.processManager.applyConfig({ source: { case: "text", value: "programs: {}\n" } })],
  ] as const) {
    const error = await rpcError(call, what);
    assert.equal(error.code, Status.PERMISSION_DENIED, `${what}: ${error.details}`);
    assert.match(
      error.details,
      new RegExp(`${what} needs role (operator|admin); TCP callers are read-only \\(role viewer\\) while server\\.auth is not set.*server\\.auth: none`),
    );
  }
  // The report: an unprivileged local user ran a command as the daemon's user over TCP.
  const ran = await corral(["--address", address, "run", "--", "id"], address);
  assert.equal(ran.code, 1, ran.stdout);
  assert.match(ran.stderr, /PERMISSION_DENIED: .*RunMonitored needs role admin/);
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.RUNNING);
  // The Unix socket (0600: the daemon's own user) stays admin.
  await daemon.client.processManager.stopProcess({ name: "sleeper" });
});

test("server.auth: none makes every TCP caller admin, and the start says so as a warning", async () => {
  const { daemon, tcp, address } = await daemonWith({ auth: "none" });
  assert.match(daemon.output(), /WARNING: server\.auth: none: every caller of 127\.0\.0\.1:0 is admin/);
  await tcp.processManager.stopProcess({ name: "sleeper" });
  assert.equal((await tcp.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.STOPPED);
  const ran = await corral(["run", "--", "echo", "ran over tcp"], address);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /ran over tcp/);
});

test("ApplyConfig with a path never quotes the file: positions only, and nothing changes", async () => {
  const { daemon } = await daemonWith({});
  const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
  const files: Record<string, string> = {
    // Not YAML a config could be: a passwd/shadow-like file, a .env file, a config with a bad value and a bad key.
    shadow: `root:$6$${secret}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`,
    env: `API_KEY=${secret}\nprograms: x\n`,
    "config.yaml": `programs:\n  a:\n    command: [sh]\n    startsecs: ${secret}\n    ${secret}_key: 1\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, text);
    const error = await rpcError(daemon.client.processManager.applyConfig({ source: { case: "path", value: path } }), name);
    assert.equal(error.code, Status.INVALID_ARGUMENT, error.details);
    assert.ok(!error.details.includes(secret), `${name}: the error quotes the file:\n${error.details}`);
    assert.match(error.details, new RegExp(`${path.replaceAll(".", "\\.")}:\\d+:\\d+: not a valid corral config here .*corral check`));
  }
  // The same text sent as text (the caller has it already) keeps its full problems.
  const asText = await rpcError(daemon.client.processManager.applyConfig({ source: { case: "text", value: files["config.yaml"]! } }), "text");
  assert.match(asText.details, /programs\.a\.startsecs: bad duration/);
  const missing = await rpcError(daemon.client.processManager.applyConfig({ source: { case: "path", value: join(dir, "absent.yaml") } }), "absent");
  assert.match(missing.details, /absent\.yaml: config file not found/);
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.RUNNING);
});
