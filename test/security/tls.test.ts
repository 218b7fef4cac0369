// TCP listeners over TLS: the daemon serves with its certificate, clients check it against the
// CA, and with server.tls.client_ca the handshake refuses missing, foreign and expired client
// certificates. Certificates are made by openssl in a temp dir for each run.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, Status, type ConnectOptions } from "../../client/ts/index.js";
import { rpcError, startTestDaemon, tcpAddress, type TestDaemon } from "../helpers/daemon.js";
import { makeTestPki, type TestPki } from "../helpers/pki.js";

let pki: TestPki;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-tls-"));
  pki = await makeTestPki(dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A daemon with a TLS listener on 127.0.0.1 (port picked by the OS) and this server.tls block. */
async function tlsDaemon(tls: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ daemon: TestDaemon; tcp: string }> {
  const configYaml = JSON.stringify({ server: { listen: ["127.0.0.1:0"], tls, ...extra }, programs: {} });
  const daemon = await startTestDaemon({ configYaml });
  return { daemon, tcp: await tcpAddress(daemon) };
}

async function serverInfoOver(options: ConnectOptions) {
  const client = connect(options);
  try {
    return await client.processManager.getServerInfo({}, { deadline: 10_000 });
  } finally {
    client.close();
  }
}

test("a TLS listener serves clients that trust its CA and refuses plain-text clients", async () => {
  const { daemon, tcp } = await tlsDaemon({ cert: pki.server.cert, key: pki.server.key });
  try {
    assert.equal((await serverInfoOver({ address: tcp, tls: { ca: pki.ca } })).pid, daemon.pid);
    // The certificate names 127.0.0.1 and localhost; another name must match through serverName.
    assert.equal((await serverInfoOver({ address: tcp.replace("127.0.0.1", "localhost"), tls: { ca: pki.ca } })).pid, daemon.pid);
    const plain = await rpcError(serverInfoOver({ address: tcp }), "plain text to a TLS port");
    assert.equal(plain.code, Status.UNAVAILABLE);
    const untrusted = await rpcError(serverInfoOver({ address: tcp, tls: {} }), "the system roots do not know the test CA");
    assert.equal(untrusted.code, Status.UNAVAILABLE);
    const wrongName = await rpcError(
      serverInfoOver({ address: tcp, tls: { ca: pki.ca, serverName: "not-the-server.example" } }),
      "a name the certificate does not have",
    );
    assert.equal(wrongName.code, Status.UNAVAILABLE);
    // The Unix socket stays plain (its 0600 mode protects it).
    assert.equal((await daemon.client.processManager.getServerInfo({})).pid, daemon.pid);
  } finally {
    await daemon.stop();
  }
});

test("with client_ca, the handshake refuses a missing, a foreign and an expired client certificate", async () => {
  // Auth is configured so the listener is not "TLS without anyone to let in"; the tests of roles are elsewhere.
  const { daemon, tcp } = await tlsDaemon(
    { cert: pki.server.cert, key: pki.server.key, client_ca: pki.ca },
    { auth: { clients: [{ subject: "CN=alice", role: "viewer" }] } },
  );
  try {
    const good = await serverInfoOver({ address: tcp, tls: { ca: pki.ca, cert: pki.alice.cert, key: pki.alice.key } });
    assert.equal(good.pid, daemon.pid);
    for (const [what, cert] of [
      ["foreign CA", pki.foreign],
      ["expired", pki.expired],
    ] as const) {
      const error = await rpcError(serverInfoOver({ address: tcp, tls: { ca: pki.ca, cert: cert.cert, key: cert.key } }), what);
      assert.equal(error.code, Status.UNAVAILABLE, `${what}: ${error.details}`);
    }
    const none = await rpcError(serverInfoOver({ address: tcp, tls: { ca: pki.ca } }), "no client certificate");
    assert.equal(none.code, Status.UNAVAILABLE, none.details);
  } finally {
    await daemon.stop();
  }
});

test("unreadable or wrong PEM files stop the daemon at start, naming the file but not its contents", async () => {
  const notAKey = join(dir, "not-a-key.pem");
  await writeFile(notAKey, "SECRET-LOOKING-TEXT\n");
  await assert.rejects(tlsDaemon({ cert: pki.server.cert, key: join(dir, "missing.key") }), /server\.tls\.key.*missing\.key.*ENOENT/s);
  await assert.rejects(tlsDaemon({ cert: pki.server.cert, key: notAKey }), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /not-a-key\.pem.*not a PEM private key/s);
    assert.doesNotMatch(error.message, /SECRET-LOOKING-TEXT/);
    return true;
  });
});
