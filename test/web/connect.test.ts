// The dashboard's Connect endpoint as a contract, called from Node (connect-node, HTTP/2 over TLS)
// against a real daemon: the same roles, audit, error details and stream bounds as gRPC TCP
// callers, because the same middleware chain and services serve it; client certificates (mTLS)
// identify callers like tokens do; and its listener follows the TCP listeners' rules.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema, ResourceInfoSchema } from "../../gen/ts/google/rpc/error_details_pb.js";
import { ProcessManager, ProcessState, StopWait } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { TaskRunner } from "../../gen/ts/corral/v1/task_runner_pb.js";
import { repoRoot, startTestDaemon, waitUntil, webUrl, type TestDaemon } from "../helpers/daemon.js";
import { makeTestPki, type TestPki } from "../helpers/pki.js";

describe("the web endpoint's Connect protocol, over HTTPS with tokens and client certificates", () => {
  let dir: string;
  let pki: TestPki;
  let daemon: TestDaemon;
  let url: string;
  let ca: Buffer;
  const tokens = { viewer: randomBytes(24).toString("hex"), operator: randomBytes(24).toString("hex") };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-connect-"));
    pki = await makeTestPki(dir);
    ca = await readFile(pki.ca);
    for (const [role, token] of Object.entries(tokens)) await writeFile(join(dir, `${role}.token`), `${token}\n`, { mode: 0o600 });
    const config = {
      web: { listen: "127.0.0.1:0" },
      server: {
        tls: { cert: pki.server.cert, key: pki.server.key, client_ca: pki.ca, require_client_cert: false },
        auth: {
          tokens: [
            { name: "vera", file: join(dir, "viewer.token"), role: "viewer" },
            { name: "otto", file: join(dir, "operator.token"), role: "operator" },
          ],
          clients: [{ subject: "CN=alice,O=corral-test", role: "operator" }],
        },
        audit_log: join(dir, "audit.log"),
        streams: { max_per_connection: 2, max_total: 8 },
      },
      tasks: { modules: [join(repoRoot, "dist/test/fixtures/tasks.js")] },
      programs: {
        one: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" },
        two: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" },
      },
    };
    daemon = await startTestDaemon({ configYaml: JSON.stringify(config) });
    url = await webUrl(daemon);
  });

  after(async () => {
    await daemon?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A client on its own HTTP/2 session, with a token, a client certificate, or nothing. */
  function client(auth: { token?: string; cert?: { cert: Buffer; key: Buffer } } = {}): {
    pm: Client<typeof ProcessManager>;
    tr: Client<typeof TaskRunner>;
  } {
    const transport = createConnectTransport({
      baseUrl: url,
      httpVersion: "2",
      useBinaryFormat: true,
      nodeOptions: { ca, ...(auth.cert ? { cert: auth.cert.cert, key: auth.cert.key } : {}) },
      interceptors: auth.token
        ? [
            (next) => (request) => {
              request.header.set("authorization", `Bearer ${auth.token}`);
              return next(request);
            },
          ]
        : [],
    });
    return { pm: createClient(ProcessManager, transport), tr: createClient(TaskRunner, transport) };
  }

  async function connectError(call: Promise<unknown>): Promise<ConnectError> {
    try {
      await call;
    } catch (error) {
      assert.ok(error instanceof ConnectError, `expected a ConnectError, got ${String(error)}`);
      return error;
    }
    assert.fail("the call succeeded; expected an error");
  }

  test("the endpoint is HTTPS (server.tls), and serves the page with its security headers", async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      httpsRequest(url, { ca }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, headers: response.headers });
      })
        .on("error", reject)
        .end();
    });
    assert.equal(status, 200);
    assert.match(String(headers["content-security-policy"]), /script-src 'self'/);
    assert.equal(headers["x-frame-options"], "DENY");
    // Plain HTTP on the same port is not served.
    await assert.rejects(
      new Promise((resolve, reject) =>
        httpRequest(url.replace("https:", "http:"), (response) => resolve(response.statusCode))
          .on("error", reject)
          .end(),
      ),
    );
  });

  test("without a token the call is UNAUTHENTICATED, with the daemon's reason", async () => {
    const anonymous = client();
    const error = await connectError(anonymous.pm.listProcesses({}));
    assert.equal(error.code, Code.Unauthenticated);
    assert.match(error.rawMessage, /bearer token|client certificate/);
  });

  test("a viewer reads but may not stop: PERMISSION_DENIED with ErrorInfo ROLE_REQUIRED, and the denial is audited", async () => {
    const viewer = client({ token: tokens.viewer });
    const { processes } = await viewer.pm.listProcesses({});
    assert.deepEqual(
      processes.map((p) => p.name),
      ["one", "two"],
    );
    const error = await connectError(viewer.pm.stopProcess({ name: "one" }));
    assert.equal(error.code, Code.PermissionDenied);
    assert.match(error.rawMessage, /StopProcess needs role operator; vera has role viewer/);
    assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, "ROLE_REQUIRED");
    await waitUntil(
      async () => (await readFile(join(dir, "audit.log"), "utf8").catch(() => "")).includes('"identity":"vera"'),
      10_000,
      "the denial in the audit log",
    );
    const line = (await readFile(join(dir, "audit.log"), "utf8")).split("\n").find((l) => l.includes('"identity":"vera"'))!;
    assert.match(line, /"method":"\/corral\.v1\.ProcessManager\/StopProcess","outcome":"denied","code":"PERMISSION_DENIED"/);
    const missing = await connectError(viewer.pm.getProcess({ name: "nope" }));
    assert.equal(missing.code, Code.NotFound);
    assert.equal(missing.findDetails(ResourceInfoSchema)[0]?.resourceName, "nope");
  });

  test("an operator's stop reaches the same core: the gRPC client sees the program stopped", async () => {
    const operator = client({ token: tokens.operator });
    await operator.pm.stopProcess({ name: "two", wait: StopWait.STOPPED });
    const { process } = await daemon.client.processManager.getProcess({ name: "two" });
    assert.equal(process?.state, ProcessState.STOPPED);
  });

  test("a task's lock names its holder as the daemon identified the caller (the token's name), never the token", async () => {
    await daemon.client.taskRunner.createTask({ name: "held", type: "counter" });
    const operator = client({ token: tokens.operator });
    const grant = await operator.tr.lock({ name: "held" });
    assert.equal(grant.granted, true);
    const { task } = await daemon.client.taskRunner.getTask({ name: "held" });
    assert.equal(task?.lockHolder, "otto");
    assert.equal((await operator.tr.isLocked({ name: "held" })).holder, "otto");
    // A client's own claim to be someone is replaced by the daemon's.
    await operator.tr.unlock({ name: "held", token: grant.token });
    const spoofed = createClient(
      TaskRunner,
      createConnectTransport({
        baseUrl: url,
        httpVersion: "2",
        nodeOptions: { ca },
        interceptors: [
          (next) => (request) => {
            request.header.set("authorization", `Bearer ${tokens.operator}`);
            request.header.set("x-corral-caller", "admin-in-disguise");
            return next(request);
          },
        ],
      }),
    );
    await spoofed.lock({ name: "held" });
    assert.equal((await daemon.client.taskRunner.getTask({ name: "held" })).task?.lockHolder, "otto");
    await daemon.client.taskRunner.forceUnlock({ name: "held" });
    assert.equal((await daemon.client.taskRunner.getTask({ name: "held" })).task?.lockHolder, "", "no holder once unlocked");
  });

  test("a client certificate mapped to a role identifies the caller like a token", async () => {
    const pem = async (files: { cert: string; key: string }) => ({ cert: await readFile(files.cert), key: await readFile(files.key) });
    const alice = client({ cert: await pem(pki.alice) });
    await alice.pm.startProcess({ name: "two" });
    const bob = client({ cert: await pem(pki.bob) });
    assert.equal((await connectError(bob.pm.listProcesses({}))).code, Code.Unauthenticated, "an unmapped certificate is no one");
  });

  test("streams are bounded like gRPC's: a third stream on one connection is RESOURCE_EXHAUSTED (server.streams.max_per_connection 2)", async () => {
    const viewer = client({ token: tokens.viewer });
    const abort = new AbortController();
    const open: AsyncIterator<unknown>[] = [];
    for (let i = 0; i < 2; i++) {
      const stream = viewer.pm.watchEvents({}, { signal: abort.signal })[Symbol.asyncIterator]();
      // The journal's first event arrives once the stream is counted.
      await stream.next();
      open.push(stream);
    }
    const third = viewer.pm.watchEvents({}, { signal: abort.signal })[Symbol.asyncIterator]();
    const error = await connectError(third.next());
    assert.equal(error.code, Code.ResourceExhausted);
    assert.match(error.rawMessage, /max_per_connection \(2\)/);
    abort.abort();
  });
});

describe("the web endpoint's listener", () => {
  test("web.listen beyond loopback without server.tls and server.auth is refused at start", async () => {
    await assert.rejects(startTestDaemon({ configYaml: JSON.stringify({ web: { listen: "0.0.0.0:0" } }) }), /web\.listen[\s\S]*loopback/);
  });

  test("on loopback without auth, callers are anonymous viewers, and only loopback host names are served (DNS rebinding)", async () => {
    const daemon = await startTestDaemon({ configYaml: JSON.stringify({ web: { listen: "127.0.0.1:0" } }) });
    try {
      const url = await webUrl(daemon);
      const session = (await (await fetch(`${url}session`)).json()) as { role: string; identity: string };
      assert.deepEqual([session.identity, session.role], ["anonymous", "viewer"]);
      const rebound = await new Promise<number>((resolve, reject) =>
        httpRequest(`${url}session`, { headers: { host: "attacker.example:80" } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on("error", reject)
          .end(),
      );
      assert.equal(rebound, 421);
    } finally {
      await daemon.stop();
    }
  });
});
