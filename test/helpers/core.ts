// Fixtures for core tests: a temporary daemon home, program configs with fast defaults, and
// waits on a real ProcessManager. Every manager made here is shut down by the test's cleanup.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProgramFatalError } from "../../server/core/errors.js";
import { ProcessManager, type ProcessManagerOptions, type StartOptions } from "../../server/core/process/manager.js";
import type { ProcessSnapshot, ProcessState, ProgramConfig } from "../../server/core/process/types.js";
import { sleep } from "./wait.js";

export { sleep, waitUntil } from "./wait.js";
export { isAlive, openFdCount } from "./proc.js";

export function tempHome(prefix = "corral-test-"): { home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

export function program(name: string, command: string[], overrides: Partial<ProgramConfig> = {}): ProgramConfig {
  return {
    name,
    command,
    cwd: tmpdir(),
    env: {},
    autostart: false,
    autorestart: "never",
    exitcodes: [0],
    startsecsMs: 0,
    startretries: 0,
    stopSignal: "SIGTERM",
    stopTimeoutMs: 2000,
    labels: {},
    backoff: { initialMs: 100, maxMs: 1000, multiplier: 2, resetAfterMs: 60_000 },
    log: { maxBytes: 0, backups: 3 },
    maxRestarts: 0,
    restartWindowMs: 60_000,
    stdin: false,
    description: "",
    ...overrides,
  };
}

/** sh -c with the script: the usual fixture. */
export function sh(script: string): string[] {
  return ["/bin/sh", "-c", script];
}

export interface ManagerFixture {
  manager: ProcessManager;
  home: string;
  close(): Promise<void>;
}

export function startManager(programs: ProgramConfig[], options: Omit<ProcessManagerOptions, "home" | "programs"> = {}): ManagerFixture {
  const { home, remove } = tempHome();
  const manager = new ProcessManager({ home, programs, ...options });
  return {
    manager,
    home,
    close: async () => {
      await manager.shutdown();
      remove();
    },
  };
}

export async function waitForState(manager: ProcessManager, name: string, state: ProcessState, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (manager.get(name).state !== state) {
    if (Date.now() > deadline) {
      const p = manager.get(name);
      throw new Error(`${name}: state ${p.state} (${p.stateReason}), expected ${state} within ${timeoutMs} ms`);
    }
    await sleep(10);
  }
}

/**
 * A start that must end FATAL: it fails with ProgramFatalError (a domain error, FAILED_PRECONDITION
 * on the wire), and the program's snapshot is what the test then looks at.
 */
export async function startExpectingFatal(manager: ProcessManager, name: string, options?: StartOptions): Promise<ProcessSnapshot> {
  const error = await manager.start(name, options).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  if (!(error instanceof ProgramFatalError))
    throw new Error(`start(${name}) was expected to fail with ProgramFatalError, got ${error === undefined ? "success" : String(error)}`);
  return manager.get(name);
}
