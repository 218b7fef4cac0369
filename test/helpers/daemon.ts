// Fixtures for end-to-end tests: a real daemon (node dist/server/daemon-entry.js) in a temp
// home, the real client connected to it, and /proc helpers to check that processes are gone.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { ClientError, connect, socketPath as socketPathOf, type CorralClient, type Event } from "../../client/ts/index.js";
import { sleep, waitUntil } from "./wait.js";

export { sleep, waitUntil } from "./wait.js";
export { isAlive, processGroupMembers } from "./proc.js";

/** The repository root (this file runs as dist/test/helpers/daemon.js). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const daemonEntry = join(repoRoot, "dist/server/daemon-entry.js");

/**
 * A readyTimeoutMs for tests that start daemons one after another on a loaded machine (a start
 * took 13 s at a load of 24 on 2 cores): a deadline only against a daemon that never answers.
 */
export const SLOW_START_MS = 60_000;

/** One program as written in the config (snake_case keys, durations like "200ms"). */
export type TestProgram = { command: string[] | string } & Record<string, unknown>;

export interface TestDaemonOptions extends DaemonLaunch {
  /** The config file's text; wins over programs. */
  configYaml?: string;
  /** Programs to write as the config (JSON is valid YAML). Neither given: no programs. */
  programs?: Record<string, TestProgram>;
  /** Extra arguments for the daemon (e.g. ["--listen", "127.0.0.1:0"]). */
  args?: string[];
  /** Use this home instead of a fresh temp dir (which stop() then leaves in place). */
  home?: string;
  readyTimeoutMs?: number;
  /** Start without --config: the daemon runs its built-in example. */
  builtinExample?: boolean;
  /** stop() fails when the daemon logged "unexpected error" (INTERNAL), unless this is set. */
  allowUnexpectedErrors?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TestDaemon {
  home: string;
  socketPath: string;
  /** "unix:///abs/path", for connect() or createChannel(). */
  address: string;
  client: CorralClient;
  pid: number;
  child: ChildProcess;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
  /** Settles when the daemon process exits. */
  exited: Promise<Exit>;
  /** SIGTERM, wait for exit (10 s, then SIGKILL), close the client, remove the temp home. */
  stop(): Promise<Exit>;
}

/**
 * How long a test waits for a new daemon to answer. Not a performance bound (bench/ measures
 * start-up): on a shared 2-core machine under load a daemon took 12 s just to listen.
 */
const DAEMON_READY_TIMEOUT_MS = 60_000;

const running = new Set<ChildProcess>();
// A test process that dies early must not leave daemons behind: SIGTERM lets them stop their programs.
process.once("exit", () => {
  for (const child of running) child.kill("SIGTERM");
});

export interface DaemonProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<Exit>;
}

/** How the daemon process is launched, around its own arguments. */
export interface DaemonLaunch {
  /** Run the daemon under this command (e.g. ["ip", "netns", "exec", "ns1"] or ["prlimit", "--nofile=64:64", "--"]); it must exec node in the same process. */
  wrapper?: string[];
  /** Options for node itself, before the entry (e.g. ["--expose-gc", "--import", probe]). */
  nodeArgs?: string[];
  /** Added to the daemon's environment (e.g. CORRAL_FAILPOINTS). */
  env?: Record<string, string>;
}

/** Spawns the daemon entry with these arguments; output is captured (last 256 KiB). */
export function spawnDaemon(args: string[], launch: DaemonLaunch = {}): DaemonProcess {
  // A wrapper must exec the daemon (prlimit and ip netns exec do), so the child's pid is the daemon's.
  const [command, ...rest] = [...(launch.wrapper ?? []), process.execPath, ...(launch.nodeArgs ?? []), daemonEntry, ...args];
  const env = launch.env ? { ...process.env, ...launch.env } : process.env;
  const child = spawn(command!, rest, { stdio: ["ignore", "pipe", "pipe"], env });
  running.add(child);
  let text = "";
  const append = (data: Buffer) => {
    text = (text + data.toString("utf8")).slice(-256 * 1024);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, output: () => text, exited };
}

export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const ownHome = options.home === undefined;
  const home = options.home ?? (await mkdtemp(join(tmpdir(), "corral-e2e-")));
  const configPath = join(home, "corral.yaml");
  await writeFile(configPath, options.configYaml ?? JSON.stringify({ programs: options.programs ?? {} }, null, 2));
  const socketPath = socketPathOf(home);
  const address = `unix://${socketPath}`;

  const configArgs = options.builtinExample ? [] : ["--config", configPath];
  const { child, output, exited } = spawnDaemon(["--home", home, ...configArgs, ...(options.args ?? [])], options);
  let client: CorralClient | undefined;
  const stop = async (): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const killLater = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        // Only our own child, by its pid; its programs may be orphaned, which the test then reports.
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        resolve();
      }, 10_000);
    });
    await Promise.race([exited, killLater]);
    const exit = await exited;
    clearTimeout(timer);
    client?.close();
    if (ownHome) await rm(home, { recursive: true, force: true });
    // Every test's daemon log is checked: a domain outcome that reached the rpc layer as a plain
    // Error (INTERNAL, "unexpected error" with a stack) is a bug even when the test passed.
    const unexpected = /corral: \S+: unexpected error:.*/.exec(output());
    if (unexpected && !options.allowUnexpectedErrors)
      assert.fail(`the daemon logged an unexpected error (a domain outcome mapped to INTERNAL): ${unexpected[0]}`);
    return exit;
  };

  try {
    client = await waitForDaemon(socketPath, exited, options.readyTimeoutMs ?? DAEMON_READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- daemon output ---\n${output()}`);
  }
  if (child.pid === undefined) throw new Error("daemon has no pid");
  return { home, socketPath, address, client, pid: child.pid, child, output, exited, stop };
}

/** Waits until the socket exists and GetServerInfo answers; fails early if the daemon exits. */
async function waitForDaemon(socketPath: string, exited: Promise<Exit>, timeoutMs: number): Promise<CorralClient> {
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));
  let lastError: unknown;
  // The channel is made only once the socket exists: a channel that failed to connect backs off
  // for a second or more before it tries again.
  while (Date.now() < deadline) {
    if (exit) throw new Error(`daemon exited during startup (code ${exit.code}, signal ${exit.signal})`);
    if (existsSync(socketPath)) {
      const client = connect({ address: socketPath });
      try {
        await client.processManager.getServerInfo({}, { deadline: new Date(Date.now() + 2_000) });
        return client;
      } catch (error) {
        lastError = error;
        client.close();
      }
    }
    await sleep(25);
  }
  throw new Error(`daemon did not answer on ${socketPath} within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Awaits a call that must fail with a ClientError, and returns that error. */
export async function rpcError(call: Promise<unknown>, what?: string): Promise<ClientError> {
  const prefix = what === undefined ? "" : `${what}: `;
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ClientError, `${prefix}expected a ClientError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${prefix}the call succeeded; expected an error`);
}

/** The daemon's TCP listen address on host (e.g. "127.0.0.1:41234"), as GetServerInfo reports it. */
export async function tcpAddress(daemon: TestDaemon, host = "127.0.0.1"): Promise<string> {
  const info = await daemon.client.processManager.getServerInfo({});
  const address = info.listen.find((listen) => listen.startsWith(`${host}:`));
  assert.ok(address, `a TCP listener on ${host} in ${info.listen.join(", ")}`);
  return address;
}

/** The Prometheus URL the daemon announced ("corral metrics on URL"), once it has (10 s at most). */
export async function metricsUrl(daemon: TestDaemon): Promise<string> {
  const announced = /corral metrics on (\S+)/;
  await waitUntil(() => announced.test(daemon.output()), 10_000, "the metrics url in the daemon's output");
  return announced.exec(daemon.output())![1]!;
}

/** The dashboard URL the daemon announced ("corral web dashboard on URL"), once it has (10 s at most). */
export async function webUrl(daemon: TestDaemon): Promise<string> {
  const announced = /corral web dashboard on (\S+)/;
  await waitUntil(() => announced.test(daemon.output()), 10_000, "the web url in the daemon's output");
  return announced.exec(daemon.output())![1]!;
}

/** Every journal event still held, oldest first, up to upToSeq (default: the last seq now). */
export async function journalEvents(daemon: TestDaemon, upToSeq?: bigint): Promise<Event[]> {
  const pm = daemon.client.processManager;
  const lastSeq = upToSeq ?? (await pm.getServerInfo({})).lastEventSeq;
  const events: Event[] = [];
  const abort = new AbortController();
  for await (const item of pm.watchEvents({}, { signal: abort.signal })) {
    if (item.kind.case !== "event") continue;
    events.push(item.kind.value);
    if (item.kind.value.seq >= lastSeq) break;
  }
  abort.abort();
  return events;
}

/** The messages of the server events among events, in order. */
export function serverMessages(events: Event[]): string[] {
  return events.flatMap((e) => (e.detail.case === "server" ? [e.detail.value.message] : []));
}
