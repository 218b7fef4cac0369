// The spawn log: closes the window between a spawn and the next save of state.json. Each spawn
// appends two short lines to state/spawns.jsonl: an intent (program, run id, log offsets) just
// before the fork, and the pid with its start ticks right after. A save of the whole state
// supersedes them and empties the file. A daemon killed in between leaves the lines for the next
// one, which merges them into the saved state (persistence.ts): no run is ever orphaned unseen.
//
// Why no fsync: a write() that returned is in the kernel's page cache, which a SIGKILL of the
// daemon does not touch; only a host crash loses it, and after a reboot no run survives anyway
// (the saved boot id tells). So a spawn costs two small appends, not a rewrite of the state.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { isRecord } from "./state-store.js";

export interface SpawnIntent {
  kind: "intent";
  program: string;
  runId: number;
  /** ISO time just before the fork: the run's start time if the pid is found later. */
  time: string;
  /** A pid of another boot is never ours (state-store.ts currentBootId). */
  bootId: string;
  stdoutStart: number;
  stderrStart: number;
}

export interface SpawnDone {
  kind: "spawned";
  program: string;
  runId: number;
  pid: number;
  pidStartTicks: number;
}

export type SpawnLogEntry = SpawnIntent | SpawnDone;

function parseEntry(line: string): SpawnLogEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined; // a torn last line: the daemon died in the middle of this very write
  }
  if (!isRecord(value) || typeof value.program !== "string" || !Number.isSafeInteger(value.runId)) return undefined;
  if (
    value.kind === "intent" &&
    typeof value.time === "string" &&
    typeof value.bootId === "string" &&
    Number.isSafeInteger(value.stdoutStart) &&
    Number.isSafeInteger(value.stderrStart)
  ) {
    return value as unknown as SpawnIntent;
  }
  if (value.kind === "spawned" && Number.isSafeInteger(value.pid) && (value.pid as number) > 0 && Number.isSafeInteger(value.pidStartTicks)) {
    return value as unknown as SpawnDone;
  }
  return undefined;
}

export class SpawnLog {
  private fd?: number;
  /** The file ends in a torn line (a daemon died mid-write): start the next entry on a new line. */
  private torn = false;

  constructor(
    readonly path: string,
    private readonly bootId: string,
  ) {}

  /** The entries a previous daemon left (call before the first append). */
  load(): SpawnLogEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return [];
    }
    this.torn = text !== "" && !text.endsWith("\n");
    return text.split("\n").flatMap((line) => {
      const entry = line === "" ? undefined : parseEntry(line);
      return entry ? [entry] : [];
    });
  }

  private append(entry: SpawnLogEntry): void {
    try {
      this.fd ??= openSync(this.path, "a", 0o600);
      writeSync(this.fd, `${this.torn ? "\n" : ""}${JSON.stringify(entry)}\n`);
      this.torn = false;
    } catch (error) {
      // A full disk must not stop a spawn; the next state save still records the run.
      process.emitWarning(`corral: writing the spawn log ${this.path} failed: ${(error as Error).message}`);
    }
  }

  intent(program: string, runId: number, logStart: { stdout: number; stderr: number }): void {
    this.append({
      kind: "intent",
      program,
      runId,
      time: new Date().toISOString(),
      bootId: this.bootId,
      stdoutStart: logStart.stdout,
      stderrStart: logStart.stderr,
    });
  }

  spawned(program: string, runId: number, pid: number, pidStartTicks: number): void {
    this.append({ kind: "spawned", program, runId, pid, pidStartTicks });
  }

  /** The state file now holds everything logged: start over (O_APPEND writes go to the new end). */
  clear(): void {
    try {
      this.fd ??= openSync(this.path, "a", 0o600);
      ftruncateSync(this.fd);
      this.torn = false;
    } catch (error) {
      process.emitWarning(`corral: truncating the spawn log ${this.path} failed: ${(error as Error).message}`);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
