// A TCP listener beyond loopback, for real but inside a network namespace this test creates
// (nothing is exposed beyond this machine): refused without TLS and auth, served with --insecure
// and a warning. Where namespaces cannot be made (not root, no iproute2), the test is skipped
// and says why; the policy itself is also checked without binding in convert.test.ts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, socketPath } from "../../client/ts/index.js";
import { spawnDaemon, waitUntil } from "../helpers/daemon.js";
import { corralOn } from "../helpers/multihost.js";

const NS = `corral-sec-${process.pid}`;
/** An address that exists only inside the namespace (on its loopback device, but not in 127/8). */
const WIDE_ADDRESS = "10.231.0.1";

/** Runs an iproute2 command to completion. */
function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let skipReason: string | undefined;
let home: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "corral-insecure-"));
  const made = await run("ip", ["netns", "add", NS]);
  if (made.code !== 0) {
    skipReason = `cannot create a network namespace here (${made.stderr.trim() || `exit ${made.code}`}); run as root with iproute2`;
    return;
  }
  for (const args of [
    ["link", "set", "lo", "up"],
    ["addr", "add", `${WIDE_ADDRESS}/32`, "dev", "lo"],
  ]) {
    const step = await run("ip", ["netns", "exec", NS, "ip", ...args]);
    assert.equal(step.code, 0, step.stderr);
  }
});

after(async () => {
  if (!skipReason) await run("ip", ["netns", "del", NS]);
  await rm(home, { recursive: true, force: true });
});

const inNamespace = ["ip", "netns", "exec", NS];

/** The daemon in the namespace (`ip netns exec` execs node, so the child's pid is the daemon's). */
const daemonInNamespace = (args: string[]) => spawnDaemon(["--home", home, ...args], { wrapper: inNamespace });

test("beyond loopback: refused without TLS and auth; --insecure serves it with a warning", async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const refused = daemonInNamespace(["--listen", `${WIDE_ADDRESS}:0`]);
  assert.notEqual((await refused.exited).code, 0);
  assert.match(refused.output(), new RegExp(`${WIDE_ADDRESS.replaceAll(".", "\\.")}:0.*needs TLS`));
  assert.ok(!existsSync(socketPath(home)), "refused before anything was bound");

  const daemon = daemonInNamespace(["--listen", `${WIDE_ADDRESS}:0`, "--insecure"]);
  const client = connect({ address: socketPath(home) });
  try {
    await waitUntil(() => existsSync(socketPath(home)), 15_000, "the daemon's socket");
    let listen: string[] = [];
    await waitUntil(
      async () => {
        listen = await client.processManager.getServerInfo({}).then(
          (info) => info.listen,
          () => [],
        );
        return listen.length > 0;
      },
      15_000,
      "GetServerInfo",
    );
    const tcp = listen.find((address) => address.startsWith(`${WIDE_ADDRESS}:`));
    assert.ok(tcp, listen.join(", "));
    assert.match(daemon.output(), /WARNING: --insecure: listening on 10\.231\.0\.1:0 beyond loopback without TLS or authentication/);
    // A client inside the namespace reaches it over TCP (no auth configured: the risk --insecure accepted).
    const info = await corralOn(inNamespace, ["--address", tcp, "info", "--json"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`"pid":\\s*${daemon.child.pid}`));
  } finally {
    client.close();
    daemon.child.kill("SIGTERM");
    assert.equal((await daemon.exited).code, 0, daemon.output());
  }
});
