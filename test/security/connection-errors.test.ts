// Every case of test/fixtures/connection-errors.json against real daemons: the TS client names
// the problem (CorralClientError.connectionProblem) with the table's message, and the CLI prints
// that message. A call that works shows the setup itself is sound.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, errorDetails, Status, type CorralClientError } from "../../client/ts/index.js";
import { runCorral } from "../helpers/cli.js";
import { connectionTable, startConnectionScene, type ConnectionScene, type SceneCase } from "../helpers/connection-scene.js";
import { repoRoot } from "../helpers/daemon.js";

let dir: string;
let scene: ConnectionScene;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-conn-"));
  // The client run as another user must reach the scene's files (the CA, its certificates).
  await chmod(dir, 0o755);
  scene = await startConnectionScene(dir);
});
after(async () => {
  await scene?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code: string;
  details?: string;
  connectionProblem?: string;
  reason?: string;
}

/** One GetServerInfo with the TS client as the case says (in a child process as uid 65534 when asked). */
async function callAs(c: SceneCase): Promise<Outcome> {
  if (c.asOtherUser) {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(repoRoot, "dist/test/helpers/try-connect.js"), JSON.stringify(c)],
        { uid: 65534, gid: 65534, timeout: 60_000 },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    return JSON.parse(stdout) as Outcome;
  }
  const client = connect({ address: c.address, ...(c.tls ? { tls: c.tls } : {}), ...(c.token ? { token: c.token } : {}) });
  try {
    await client.processManager.getServerInfo({}, { deadline: 20_000 });
    return { code: "OK" };
  } catch (error) {
    const e = error as CorralClientError;
    return { code: Status[e.code] ?? String(e.code), details: e.details, connectionProblem: e.connectionProblem, reason: errorDetails(e).reason };
  } finally {
    client.close();
  }
}

test("the scene is sound: TLS with the CA, alice's certificate and the token gets in", async () => {
  assert.equal((await callAs({ ...scene.good, code: "OK", asOtherUser: false, message: "" })).code, "OK");
});

test("the shared table covers every problem the TS client names", () => {
  const problems = connectionTable.cases.flatMap((c) => (c.problem ? [c.problem] : []));
  assert.deepEqual(problems.sort(), [
    "CONNECTION_REFUSED",
    "SOCKET_MISSING",
    "SOCKET_PERMISSION_DENIED",
    "SOCKET_REFUSED",
    "TLS_CERT_EXPIRED",
    "TLS_CLIENT_CERT_REFUSED",
    "TLS_EXPECTED",
    "TLS_NOT_SPOKEN",
    "TLS_SERVER_NAME",
    "TLS_UNKNOWN_CA",
  ]);
});

for (const c of connectionTable.cases) {
  const name = c.problem ?? c.reason;
  test(`TS client, ${name}: ${c.setup}`, async () => {
    const made = scene.cases.find((s) => (s.problem ?? s.reason) === name)!;
    const outcome = await callAs(made);
    assert.equal(outcome.code, made.code, JSON.stringify(outcome));
    assert.equal(outcome.details, made.message);
    if (made.problem) assert.equal(outcome.connectionProblem, made.problem);
    else assert.equal(outcome.reason, made.reason);
  });
}

/** The CLI's connection flags for a case (the token through a file, as users give it). */
function cliFlags(c: SceneCase, tokenFile: string): string[] {
  const flags = ["--address", c.address];
  if (c.tls?.ca) flags.push("--tls-ca", c.tls.ca);
  if (c.tls?.cert) flags.push("--tls-cert", c.tls.cert, "--tls-key", c.tls.key ?? "");
  if (c.tls?.serverName) flags.push("--tls-server-name", c.tls.serverName);
  if (c.tls && !c.tls.ca && !c.tls.cert && !c.tls.serverName) flags.push("--tls");
  if (c.token) flags.push("--token-file", tokenFile);
  return flags;
}

test("the CLI prints each problem's message (corral: <message>), exit code 1", async () => {
  const { writeFile } = await import("node:fs/promises");
  for (const c of scene.cases) {
    if (c.asOtherUser) continue; // the TS client's child process above covers it
    const tokenFile = join(dir, "cli.token");
    if (c.token) await writeFile(tokenFile, `${c.token}\n`);
    const { code, stderr } = await runCorral([], ["status", ...cliFlags(c, tokenFile)], process.env);
    const expected = c.problem ? `corral: ${c.message}\n` : `corral: ${c.code}: ${c.message}\n`;
    assert.equal(stderr, expected, c.problem ?? c.reason);
    assert.equal(code, 1, c.problem ?? c.reason);
  }
});
