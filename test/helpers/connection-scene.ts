// The real setups behind test/fixtures/connection-errors.json, made once and shared by the TS
// client, CLI, Python and Go tests: three daemons (TLS with required client certificates and a
// token; TLS with an expired certificate; plain loopback TCP), a missing socket, a socket nobody
// listens on, a free port, and for each case of the table the connect options that hit it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot, startTestDaemon, tcpAddress, type TestDaemon } from "./daemon.js";
import { makeTestPki, type TestPki } from "./pki.js";

interface TableCase {
  problem?: string;
  reason?: string;
  code?: string;
  setup: string;
  message: string;
}

/** The shared table, as written. */
export const connectionTable = JSON.parse(readFileSync(join(repoRoot, "test/fixtures/connection-errors.json"), "utf8")) as { cases: TableCase[] };

/** One case, made real: how to connect, and what the client must say. */
export interface SceneCase {
  /** ConnectionProblem (UNAVAILABLE), or undefined for a daemon-side refusal (then `reason`). */
  problem?: string;
  reason?: string;
  /** The gRPC code name the call fails with. */
  code: string;
  address: string;
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  token?: string;
  /** Run the client as uid/gid 65534 (root is never refused by file modes). */
  asOtherUser: boolean;
  /** The table's message with its placeholders filled in. */
  message: string;
}

export interface ConnectionScene {
  cases: SceneCase[];
  /** Connect options that work (TLS, alice's certificate, the token), to show the setup is sound. */
  good: { address: string; tls: { ca: string; cert: string; key: string }; token: string };
  stop(): Promise<void>;
}

const fill = (template: string, facts: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, key: string) => facts[key] ?? `{${key}}`);

/** A Unix socket file that nothing listens on: bound by a short-lived Python process that never listens. */
function staleSocket(path: string): void {
  const made = spawnSync("python3", ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path], { timeout: 30_000 });
  if (made.status !== 0) throw new Error(`cannot make a stale socket at ${path}: ${made.stderr?.toString()}`);
}

/** A loopback port that was free a moment ago (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export async function startConnectionScene(dir: string): Promise<ConnectionScene> {
  const pki: TestPki = await makeTestPki(dir);
  const token = randomBytes(24).toString("hex");
  const tokenFile = join(dir, "operator.token");
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const daemons: TestDaemon[] = [];
  const stop = async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
  };
  try {
    const tcpDaemon = async (server: Record<string, unknown>) => {
      const daemon = await startTestDaemon({ configYaml: JSON.stringify({ server: { listen: ["127.0.0.1:0"], ...server }, programs: {} }) });
      daemons.push(daemon);
      return { daemon, tcp: await tcpAddress(daemon) };
    };
    const secured = await tcpDaemon({
      tls: { cert: pki.server.cert, key: pki.server.key, client_ca: pki.ca, require_client_cert: true },
      auth: { tokens: [{ name: "scene-operator", file: tokenFile, role: "operator" }] },
    });
    const expired = await tcpDaemon({ tls: { cert: pki.expiredServer.cert, key: pki.expiredServer.key } });
    const plain = await tcpDaemon({});

    const alice = { ca: pki.ca, cert: pki.alice.cert, key: pki.alice.key };
    const missing = join(dir, "never-started", "corral.sock");
    const refusedDir = join(dir, "crashed");
    await mkdir(refusedDir);
    const refused = join(refusedDir, "corral.sock");
    staleSocket(refused);
    // Root passes every file mode: then the client runs as another user against the daemon's
    // 0600 socket in its 0700 home; otherwise a socket of ours with mode 0 refuses us.
    const root = process.getuid?.() === 0;
    let denied = plain.daemon.socketPath;
    if (!root) {
      denied = join(dir, "denied.sock");
      staleSocket(denied);
      await chmod(denied, 0);
    }
    const port = await freePort();
    const setups: Record<string, Omit<SceneCase, "message" | "code" | "problem" | "reason"> & { facts?: Record<string, string> }> = {
      SOCKET_MISSING: { address: missing, asOtherUser: false, facts: { path: missing } },
      SOCKET_REFUSED: { address: refused, asOtherUser: false, facts: { path: refused } },
      SOCKET_PERMISSION_DENIED: { address: denied, asOtherUser: root, facts: { path: denied } },
      CONNECTION_REFUSED: { address: `127.0.0.1:${port}`, asOtherUser: false },
      TLS_EXPECTED: { address: secured.tcp, asOtherUser: false },
      TLS_NOT_SPOKEN: { address: plain.tcp, tls: { ca: pki.ca }, asOtherUser: false },
      TLS_SERVER_NAME: {
        address: secured.tcp,
        tls: { ...alice, serverName: "not-the-daemon.example" },
        asOtherUser: false,
        facts: { name: "not-the-daemon.example" },
      },
      TLS_UNKNOWN_CA: {
        address: secured.tcp,
        tls: { ...alice, ca: join(dir, "other-ca.pem") },
        asOtherUser: false,
        facts: { trusted: `the CA file ${join(dir, "other-ca.pem")}` },
      },
      TLS_CERT_EXPIRED: { address: expired.tcp, tls: { ca: pki.ca }, asOtherUser: false },
      TLS_CLIENT_CERT_REFUSED: { address: secured.tcp, tls: { ca: pki.ca, ...pki.foreign }, asOtherUser: false, facts: { cert: pki.foreign.cert } },
      TOKEN_INVALID: { address: secured.tcp, tls: alice, token: "not-a-token-of-this-daemon", asOtherUser: false },
    };
    const cases = connectionTable.cases.map((c): SceneCase => {
      const key = c.problem ?? c.reason ?? "";
      const setup = setups[key];
      if (!setup) throw new Error(`connection-errors.json: no setup for ${key}`);
      const { facts, ...rest } = setup;
      return {
        ...rest,
        ...(c.problem !== undefined ? { problem: c.problem } : {}),
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        code: c.code ?? "UNAVAILABLE",
        message: fill(c.message, { address: setup.address, ...facts }),
      };
    });
    return { cases, good: { address: secured.tcp, tls: alice, token }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
