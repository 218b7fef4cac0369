// Authentication and authorization over TCP: bearer tokens and client certificates map to roles
// (viewer < operator < admin), each RPC needs a least role, denied calls get UNAUTHENTICATED or
// PERMISSION_DENIED and land in the audit log, and no secret ever leaves the daemon.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile, stat, writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ChannelCredentials } from "@grpc/grpc-js";
import { createChannel, createClient, Metadata } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { ProcessState, Status, connect, type ConnectOptions, type CorralClient } from "../../client/ts/index.js";
import { corral } from "../helpers/cli.js";
import { rpcError, startTestDaemon, tcpAddress, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { makeTestPki, type TestPki } from "../helpers/pki.js";

let dir: string;
let pki: TestPki;
let daemon: TestDaemon;
let tcp: string;
const tokens = { viewer: "", operator: "", admin: "", unknown: "" };
const tokenFile = (role: keyof typeof tokens) => join(dir, `${role}.token`);
const clients: CorralClient[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-auth-"));
  pki = await makeTestPki(dir);
  for (const role of Object.keys(tokens) as (keyof typeof tokens)[]) {
    tokens[role] = randomBytes(24).toString("hex");
    await writeFile(tokenFile(role), `${tokens[role]}\n`, { mode: 0o600 });
  }
  const config = {
    server: {
      listen: ["127.0.0.1:0"],
      // Client certificates optional: token callers have none.
      tls: { cert: pki.server.cert, key: pki.server.key, client_ca: pki.ca, require_client_cert: false },
      auth: {
        tokens: [
          { name: "ci-viewer", file: tokenFile("viewer"), role: "viewer" },
          { name: "ci-operator", file: tokenFile("operator"), role: "operator" },
          { name: "ci-admin", file: tokenFile("admin"), role: "admin" },
        ],
        clients: [{ subject: "CN=alice,O=corral-test", role: "operator" }],
      },
    },
    programs: { sleeper: { command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s" } },
  };
  daemon = await startTestDaemon({ configYaml: JSON.stringify(config) });
  tcp = await tcpAddress(daemon);
  await waitUntil(
    async () => (await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state === ProcessState.RUNNING,
    15_000,
    "sleeper RUNNING",
  );
});

after(async () => {
  for (const client of clients) client.close();
  await daemon?.stop();
  await rm(dir, { recursive: true, force: true });
});

function client(options: Omit<ConnectOptions, "address" | "tls"> & { cert?: { cert: string; key: string } } = {}): CorralClient {
  const { cert, ...rest } = options;
  const made = connect({ address: tcp, tls: { ca: pki.ca, ...(cert ? { cert: cert.cert, key: cert.key } : {}) }, ...rest });
  clients.push(made);
  return made;
}

async function auditLines(): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(daemon.home, "audit.log"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function audited(match: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await waitUntil(async () => (found = (await auditLines()).find(match)) !== undefined, 10_000, `audit line: ${what}`);
  return found!;
}

const GET = "/corral.v1.ProcessManager/GetProcess";
const STOP = "/corral.v1.ProcessManager/StopProcess";
const RELOAD = "/corral.v1.ProcessManager/ReloadConfig";
const SHUTDOWN = "/corral.v1.ProcessManager/Shutdown";

test("a call without credentials is UNAUTHENTICATED, and audited with its peer and method", async () => {
  const error = await rpcError(client().processManager.getProcess({ name: "sleeper" }), "no token");
  assert.equal(error.code, Status.UNAUTHENTICATED);
  assert.match(error.details, /no credentials/);
  const line = await audited((l) => l.method === GET && l.code === "UNAUTHENTICATED" && /no credentials/.test(String(l.reason)), "no credentials");
  assert.equal(line.outcome, "denied");
  assert.match(String(line.peer), /127\.0\.0\.1/);
  assert.ok(!Number.isNaN(Date.parse(String(line.time))), `time ${String(line.time)}`);
});

test("an unknown token, a malformed header and a forged subject header are UNAUTHENTICATED", async () => {
  const unknown = await rpcError(client({ token: tokens.unknown }).processManager.getProcess({ name: "sleeper" }), "unknown token");
  assert.equal(unknown.code, Status.UNAUTHENTICATED);
  assert.ok(!unknown.details.includes(tokens.unknown), "the error does not echo the token");
  const malformed = await rpcError(
    client().processManager.getProcess({ name: "sleeper" }, { metadata: new Metadata({ authorization: "Basic abc" }) }),
    "Basic auth",
  );
  assert.equal(malformed.code, Status.UNAUTHENTICATED);
  // The verified-subject metadata is the daemon's own: a client that sends it gains nothing.
  const forged = new Metadata({ "x-corral-verified-peer-subject": encodeURIComponent(JSON.stringify({ CN: "alice", O: "corral-test" })) });
  const spoof = await rpcError(client().processManager.stopProcess({ name: "sleeper" }, { metadata: forged }), "forged subject");
  assert.equal(spoof.code, Status.UNAUTHENTICATED);
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.RUNNING);
});

test("a viewer reads but StopProcess is PERMISSION_DENIED naming the method, its role and the role needed", async () => {
  const viewer = client({ tokenFile: tokenFile("viewer") });
  assert.equal((await viewer.processManager.getProcess({ name: "sleeper" })).process?.name, "sleeper");
  const denied = await rpcError(viewer.processManager.stopProcess({ name: "sleeper" }), "viewer stops");
  assert.equal(denied.code, Status.PERMISSION_DENIED);
  assert.match(denied.details, /StopProcess/);
  assert.match(denied.details, /needs role operator/);
  assert.match(denied.details, /ci-viewer has role viewer/);
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.RUNNING);
  const line = await audited((l) => l.method === STOP && l.identity === "ci-viewer", "viewer's stop");
  assert.deepEqual({ outcome: line.outcome, code: line.code, role: line.role }, { outcome: "denied", code: "PERMISSION_DENIED", role: "viewer" });
});

test("an operator stops and starts, is refused admin calls, and its allowed calls are audited", async () => {
  const operator = client({ tokenFile: tokenFile("operator") });
  await operator.processManager.stopProcess({ name: "sleeper" });
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.STOPPED);
  await operator.processManager.startProcess({ name: "sleeper" });
  const reload = await rpcError(operator.processManager.reloadConfig({ dryRun: true }), "operator reloads");
  assert.equal(reload.code, Status.PERMISSION_DENIED);
  assert.match(reload.details, /ReloadConfig needs role admin; ci-operator has role operator/);
  const shutdown = await rpcError(operator.processManager.shutdown({}), "operator shuts down");
  assert.equal(shutdown.code, Status.PERMISSION_DENIED);
  const stopLine = await audited((l) => l.method === STOP && l.identity === "ci-operator", "operator's stop");
  assert.deepEqual({ outcome: stopLine.outcome, code: stopLine.code, role: stopLine.role }, { outcome: "allowed", code: "OK", role: "operator" });
  await audited((l) => l.method === RELOAD && l.identity === "ci-operator" && l.code === "PERMISSION_DENIED", "operator's reload");
  // Reads are allowed and not audited. The log is written asynchronously, so the count is taken
  // once an audited call made after the read has reached it.
  const operatorLines = async (method: string) => (await auditLines()).filter((l) => l.method === method && l.identity === "ci-operator").length;
  const [getsBefore, shutdownsBefore] = [await operatorLines(GET), await operatorLines(SHUTDOWN)];
  await operator.processManager.getProcess({ name: "sleeper" });
  await rpcError(operator.processManager.shutdown({}), "operator shuts down again");
  await waitUntil(async () => (await operatorLines(SHUTDOWN)) === shutdownsBefore + 1, 10_000, "the later refused shutdown in the audit log");
  assert.equal(await operatorLines(GET), getsBefore);
});

test("an admin may call admin methods", async () => {
  const admin = client({ token: tokens.admin });
  const reply = await admin.processManager.reloadConfig({ dryRun: true });
  assert.equal(reply.dryRun, true);
  await audited((l) => l.method === RELOAD && l.identity === "ci-admin" && l.outcome === "allowed", "admin's reload");
});

test("a mapped client certificate gets its role; unmapped, foreign and expired certificates are UNAUTHENTICATED", async () => {
  const alice = client({ cert: pki.alice });
  await alice.processManager.stopProcess({ name: "sleeper" });
  await alice.processManager.startProcess({ name: "sleeper" });
  const line = await audited((l) => l.method === STOP && l.identity === "O=corral-test,CN=alice", "alice's stop");
  assert.equal(line.role, "operator");
  const aliceShutdown = await rpcError(alice.processManager.shutdown({}), "alice shuts down");
  assert.equal(aliceShutdown.code, Status.PERMISSION_DENIED);
  const bob = await rpcError(client({ cert: pki.bob }).processManager.getProcess({ name: "sleeper" }), "bob");
  assert.equal(bob.code, Status.UNAUTHENTICATED);
  assert.match(bob.details, /CN=bob.*not mapped/);
  // Client certificates are optional here (tokens work without one), so the handshake lets these
  // through, but a certificate that did not verify identifies no one.
  const deniedStops = async () => (await auditLines()).filter((l) => l.method === STOP && l.outcome === "denied" && l.code === "UNAUTHENTICATED").length;
  const before = await deniedStops();
  for (const [what, cert] of [
    ["foreign CA", pki.foreign],
    ["expired", pki.expired],
  ] as const) {
    const error = await rpcError(client({ cert }).processManager.stopProcess({ name: "sleeper" }), what);
    assert.equal(error.code, Status.UNAUTHENTICATED, `${what}: ${error.details}`);
  }
  await waitUntil(async () => (await deniedStops()) === before + 2, 10_000, "both refused stops in the audit log");
  await audited((l) => l.method === GET && typeof l.reason === "string" && /CN=bob/.test(l.reason), "bob's denial");
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.RUNNING);
});

test("a certificate naming CN=mallory and CN=alice does not get alice's role: subjects match exactly", async () => {
  const error = await rpcError(client({ cert: pki.twoNames }).processManager.stopProcess({ name: "sleeper" }), "mallory+alice");
  assert.equal(error.code, Status.UNAUTHENTICATED, error.details);
  assert.match(error.details, /CN=mallory,CN=alice.*not mapped/);
  assert.equal((await daemon.client.processManager.getProcess({ name: "sleeper" })).process?.state, ProcessState.RUNNING);
});

test("health is open to anyone; the Unix socket is admin without a token", async () => {
  const channel = createChannel(tcp, ChannelCredentials.createSsl(await readFile(pki.ca)));
  try {
    const health = createClient(HealthDefinition, channel);
    assert.equal((await health.check({ service: "" })).status, 1 /* SERVING */);
  } finally {
    channel.close();
  }
  assert.equal((await daemon.client.processManager.reloadConfig({ dryRun: true })).dryRun, true);
  const line = await audited((l) => l.method === RELOAD && l.identity === "local-socket", "the socket caller's reload");
  assert.deepEqual({ role: line.role, outcome: line.outcome, code: line.code }, { role: "admin", outcome: "allowed", code: "OK" });
});

test("the CLI talks TLS with --tls-ca and --token-file; no token value appears anywhere the daemon writes or answers", async () => {
  const status = await corral(["status", "--json", "--tls-ca", pki.ca, "--token-file", tokenFile("viewer")], tcp);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stderr, "", "no warnings on a TLS connection to an IP address");
  assert.match(status.stdout, /sleeper/);
  const denied = await corral(["stop", "sleeper", "--tls-ca", pki.ca, "--token-file", tokenFile("viewer")], tcp);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /PERMISSION_DENIED: .*StopProcess needs role operator/);
  const env = await corral(["info", "--json"], tcp, { CORRAL_TLS_CA: pki.ca, CORRAL_TOKEN_FILE: tokenFile("admin") });
  assert.equal(env.code, 0, env.stderr);
  const missing = await corral(["status", "--tls-ca", pki.ca], tcp);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /UNAUTHENTICATED/);

  const everything: string[] = [status.stdout, status.stderr, denied.stderr, env.stdout, env.stderr, daemon.output()];
  const info = await daemon.client.processManager.getServerInfo({});
  everything.push(JSON.stringify(info, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value)));
  const events = await corral(["events", "--json"], daemon.address);
  everything.push(events.stdout);
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path)) {
      const full = join(path, entry);
      const kind = await stat(full);
      if (kind.isDirectory()) await walk(full);
      else if (kind.isFile()) everything.push(await readFile(full, "latin1"));
    }
  };
  await walk(daemon.home);
  const written = everything.join("\n");
  assert.ok(written.includes("ci-viewer"), "the token names are there (the audit log), so the search is not vacuous");
  for (const [role, token] of Object.entries(tokens)) assert.ok(!written.includes(token), `the ${role} token appears in the daemon's output, files or answers`);
  const audit = await stat(join(daemon.home, "audit.log"));
  assert.equal(audit.mode & 0o777, 0o600);
});

test("a token file that is too short or unreadable stops the daemon at start, naming the file but not the token", async () => {
  const short = join(dir, "short.token");
  await writeFile(short, "abc123\n", { mode: 0o600 });
  const config = (file: string) => JSON.stringify({ server: { listen: ["127.0.0.1:0"], auth: { tokens: [{ name: "t", file, role: "admin" }] } } });
  await assert.rejects(startTestDaemon({ configYaml: config(short) }), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /short\.token.*at least 16 characters/s);
    assert.doesNotMatch(error.message, /abc123/);
    return true;
  });
  const unreadable = join(dir, "nope.token");
  await assert.rejects(startTestDaemon({ configYaml: config(unreadable) }), /nope\.token.*ENOENT/s);
});
