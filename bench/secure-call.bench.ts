// What the secure channel costs per call: sequential GetProcess over the Unix socket, plain
// loopback TCP, TLS with a bearer token, and mTLS (client certificate), against one daemon.
// `npm run build && node dist/bench/secure-call.bench.js [CALLS]`
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ConnectOptions } from "../client/ts/index.js";
import { startTestDaemon, tcpAddress } from "../test/helpers/daemon.js";
import { makeTestPki } from "../test/helpers/pki.js";
import { quantile } from "./quantile.js";

const CALLS = Number(process.argv[2] ?? 2000);

const dir = await mkdtemp(join(tmpdir(), "corral-bench-tls-"));
const pki = await makeTestPki(dir);
const tokenFile = join(dir, "bench.token");
await writeFile(tokenFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
// server.tls applies to every TCP listener of a daemon, so the plain-TCP figure comes from a
// second daemon without it.
const secured = await startTestDaemon({
  configYaml: JSON.stringify({
    server: {
      listen: ["127.0.0.1:0"],
      tls: { cert: pki.server.cert, key: pki.server.key, client_ca: pki.ca, require_client_cert: false },
      auth: { tokens: [{ name: "bench", file: tokenFile, role: "viewer" }], clients: [{ subject: "CN=alice", role: "viewer" }] },
    },
    programs: { p: { command: ["sleep", "600"] } },
  }),
});
const plain = await startTestDaemon({ configYaml: JSON.stringify({ server: { listen: ["127.0.0.1:0"] }, programs: { p: { command: ["sleep", "600"] } } }) });

async function measure(label: string, options: ConnectOptions): Promise<string> {
  const client = connect(options);
  try {
    for (let i = 0; i < 100; i++) await client.processManager.getProcess({ name: "p" }); // warm up (and handshake)
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await client.processManager.getProcess({ name: "p" });
      ms.push(performance.now() - start);
    }
    return `| ${label} | ${quantile(ms, 0.5).toFixed(3)} | ${quantile(ms, 0.99).toFixed(3)} |`;
  } finally {
    client.close();
  }
}

try {
  const rows = [
    await measure("Unix socket (admin, no auth)", { address: secured.socketPath }),
    await measure("loopback TCP, plain, no auth", { address: await tcpAddress(plain) }),
    await measure("loopback TCP, TLS + bearer token", { address: await tcpAddress(secured), tls: { ca: pki.ca }, tokenFile }),
    await measure("loopback TCP, mTLS (client certificate)", {
      address: await tcpAddress(secured),
      tls: { ca: pki.ca, cert: pki.alice.cert, key: pki.alice.key },
    }),
  ];
  console.log(`sequential GetProcess, ${CALLS} calls each (ms)\n| channel | p50 | p99 |\n|---|---|---|\n${rows.join("\n")}`);
} finally {
  await secured.stop();
  await plain.stop();
  await rm(dir, { recursive: true, force: true });
}
