// Fixtures for end-to-end tests: a real daemon (node dist/server/daemon-entry.js) in a temp
// home, the real client connected to it, and /proc helpers to check that processes are gone.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, socketPath as socketPathOf, type CorralClient } from "../../client/index.js";

/** The repository root (this file runs as dist/test/helpers/daemon.js). */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const daemonEntry = join(repoRoot, "dist/server/daemon-entry.js");

/** One program as written in the config (snake_case keys, durations like "200ms"). */
export type TestProgram = { command: string[] | string } & Record<string, unknown>;

export interface TestDaemonOptions {
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

/** Spawns the daemon entry with these arguments; output is captured (last 256 KiB). */
export function spawnDaemon(args: string[]): DaemonProcess {
  const child = spawn(process.execPath, [daemonEntry, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
  const { child, output, exited } = spawnDaemon(["--home", home, ...configArgs, ...(options.args ?? [])]);
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
    return exit;
  };

  try {
    client = await waitForDaemon(socketPath, exited, options.readyTimeoutMs ?? 10_000);
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Whether pid is a live process (a zombie counts as gone: it runs nothing and holds nothing). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/** Live pids whose process group is pgid (each run is its own group, led by its first pid). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== "Z") members.push(Number(entry));
  }
  return members;
}

function readStat(pid: number): { state: string; pgrp: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: the fields after it start at the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], pgrp: Number(fields[2]) };
}
