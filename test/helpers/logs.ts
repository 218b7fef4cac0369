// Fixtures for log tests: the writer program (test/fixtures/log-writer.ts) as a program config,
// a whole stream read back through ReadLogs as a client would, and the backups on disk.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LogStream, ProcessState, type LogGap, type ProcessManagerClient } from "../../client/ts/index.js";
import { lineOf } from "../fixtures/log-writer.js";
import { repoRoot, waitUntil, type TestDaemon } from "./daemon.js";

const writer = join(repoRoot, "dist/test/fixtures/log-writer.js");
export const KiB = 1024;

export interface ReadBack {
  data: Buffer;
  first: number;
  end: number;
  gaps: LogGap[];
}

/** Reads a whole stream through ReadLogs from offset 0, chunk by chunk, as a client would. */
export async function readAll(pm: ProcessManagerClient, name: string): Promise<ReadBack> {
  const parts: Buffer[] = [];
  const gaps: LogGap[] = [];
  let offset = 0n;
  let first = -1;
  for (;;) {
    const response = await pm.readLogs({ name, stream: LogStream.STDOUT, offset });
    const chunk = response.chunk!;
    if (first < 0) first = Number(chunk.offset);
    gaps.push(...chunk.gaps);
    assert.equal(chunk.offset, offset > response.firstOffset ? offset : response.firstOffset, "a read starts where asked, or at the first kept byte");
    parts.push(Buffer.from(chunk.data));
    offset = chunk.offset + BigInt(chunk.data.length);
    if (offset >= response.endOffset) return { data: Buffer.concat(parts), first, end: Number(response.endOffset), gaps };
  }
}

export async function runToExit(daemon: TestDaemon, name: string, timeoutMs = 60_000): Promise<void> {
  const pm = daemon.client.processManager;
  await waitUntil(async () => (await pm.getProcess({ name })).process?.state === ProcessState.EXITED, timeoutMs, `${name} to exit`);
}

export const writerProgram = (args: string[], log: Record<string, unknown>) => ({
  command: [process.execPath, writer, ...args],
  autostart: false,
  autorestart: "never",
  startsecs: "0s",
  log,
});

/** The backups on disk, oldest first (named by the logical offset of their first byte). */
export function backupsOf(home: string, name: string): { path: string; start: number; size: number }[] {
  const dir = join(home, "logs");
  const prefix = `${name}.stdout.log.`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && /^\d{20}$/.test(f.slice(prefix.length)))
    .sort()
    .map((f) => ({ path: join(dir, f), start: Number(f.slice(prefix.length)), size: statSync(join(dir, f)).size }));
}

export const expectedLines = (count: number) => Buffer.from(Array.from({ length: count }, (_, i) => lineOf(i)).join(""));
