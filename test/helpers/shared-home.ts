// Fixtures for persistence tests: successive real daemons on one home (killed with SIGKILL or
// stopped in order), and every process group a test saw, killed at the end whatever happened.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessState, type ProcessInfo } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil, type TestDaemon, type TestDaemonOptions } from "./daemon.js";

export function byName(processes: ProcessInfo[]): Map<string, ProcessInfo> {
  return new Map(processes.map((p) => [p.name, p]));
}

/** Every process group the test saw; killed in `finally` whatever happened. */
export class OwnedGroups {
  private readonly pgids = new Set<number>();

  add(processes: Iterable<ProcessInfo>): void {
    for (const p of processes) if (p.run && p.run.pid > 0) this.pgids.add(p.run.pid);
  }

  addPid(pgid: number): void {
    if (pgid > 0) this.pgids.add(pgid);
  }

  killAll(): void {
    for (const pgid of this.pgids) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

export interface SharedHome {
  home: string;
  owned: OwnedGroups;
  /** Starts a daemon in the shared home; every daemon started here is stopped at the end. */
  start(options: Omit<TestDaemonOptions, "home">): Promise<TestDaemon>;
}

/** Runs body with one home for successive daemons; then kills what it saw and removes the home. */
export async function inSharedHome(body: (shared: SharedHome) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "corral-persist-"));
  const owned = new OwnedGroups();
  const daemons: TestDaemon[] = [];
  const start = async (options: Omit<TestDaemonOptions, "home">) => {
    const daemon = await startTestDaemon({ ...options, home });
    daemons.push(daemon);
    return daemon;
  };
  try {
    await body({ home, owned, start });
  } finally {
    owned.killAll();
    for (const daemon of daemons) await daemon.stop();
    await rm(home, { recursive: true, force: true });
  }
}

export async function listAll(daemon: TestDaemon): Promise<Map<string, ProcessInfo>> {
  return byName((await daemon.client.processManager.listProcesses({})).processes);
}

export async function waitForStates(
  daemon: TestDaemon,
  want: (p: ProcessInfo) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<Map<string, ProcessInfo>> {
  let last = new Map<string, ProcessInfo>();
  await waitUntil(
    async () => {
      last = await listAll(daemon);
      return [...last.values()].every(want);
    },
    timeoutMs,
    `${what}; now: ${[...last.values()]
      .filter((p) => !want(p))
      .map((p) => `${p.name}=${ProcessState[p.state]} (${p.stateReason})`)
      .join(", ")}`,
  );
  return last;
}

export async function killDaemon(daemon: TestDaemon): Promise<void> {
  daemon.child.kill("SIGKILL"); // our own child, by its pid
  assert.equal((await daemon.exited).signal, "SIGKILL");
  await daemon.stop(); // closes the client; the home is ours and stays
}
