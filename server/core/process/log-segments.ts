// Where a stream's bytes are on disk: the current file (the child appends to it) and the backups,
// each backup named by the logical offset of its first byte (Kafka names its segments the same
// way): a rotation renames nothing already kept, a crash cannot leave a half-renamed chain, and
// every file says which offsets it holds.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { resourceError } from "../resource-errors.js";
import { scanLogDirectory } from "./log-dir-scan.js";
import { helperCopy } from "./log-fallocate-helper.js";

/** Offsets in backup names are zero-padded so that names sort as offsets do. */
const OFFSET_DIGITS = 20;

export interface Segment {
  path: string;
  /** Logical offset of the segment's first kept byte. */
  start: number;
  /** Kept bytes. */
  size: number;
  /** Where the kept bytes begin in the file (the current file after hole-punching; 0 otherwise). */
  physical: number;
}

export interface Backup {
  path: string;
  start: number;
  size: number;
  mtimeMs: number;
}

/** `<path>.<offset>`: the backup whose first byte has this logical offset. */
export function backupPath(current: string, start: number): string {
  return `${current}.${String(start).padStart(OFFSET_DIGITS, "0")}`;
}

/** A backup written but not yet part of the stream (a rotation in progress). */
export function partialPath(current: string, start: number): string {
  return `${backupPath(current, start)}.partial`;
}

/** The backups of one stream (oldest first), and stray partials a crashed rotation left. */
export async function listBackups(current: string): Promise<{ backups: Backup[]; partials: string[]; numbered: string[] }> {
  const dir = dirname(current);
  const prefix = `${basename(current)}.`;
  const backups: Backup[] = [];
  const partials: string[] = [];
  const numbered: string[] = [];
  let names: readonly string[];
  try {
    // One listing of the directory for all the streams asking together (log-dir-scan.ts).
    names = (await scanLogDirectory(dir)).get(basename(current)) ?? [];
  } catch (error) {
    // Out of fds: said like any failed open of the log, not as a bare errno.
    throw resourceError(error, "opening the log file (listing its backups)", current) ?? error;
  }
  for (const name of names) {
    const rest = name.slice(prefix.length);
    if (/^\d{20}\.partial$/.test(rest)) partials.push(join(dir, name));
    else if (/^\d{1,6}$/.test(rest))
      numbered.push(join(dir, name)); // corral < 0.x named backups 1..n
    else if (/^\d{20}$/.test(rest)) {
      try {
        const info = await stat(join(dir, name));
        backups.push({ path: join(dir, name), start: Number(rest), size: info.size, mtimeMs: info.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
  }
  backups.sort((a, b) => a.start - b.start);
  return { backups, partials, numbered };
}

/**
 * The readable chain, oldest first: the current file's kept bytes, preceded by each backup that
 * ends exactly where the next one starts. A backup that does not (left by a crash, or by an
 * older cut) holds offsets the stream no longer vouches for, and is not read.
 */
export function chain(current: Segment, backups: Backup[]): Segment[] {
  const segments = [current];
  for (let i = backups.length - 1; i >= 0; i--) {
    const backup = backups[i];
    if (backup.start + backup.size !== segments[0].start) break;
    segments.unshift({ path: backup.path, start: backup.start, size: backup.size, physical: 0 });
  }
  return segments;
}

export async function sizeOf(path: string, missing = 0): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return missing;
  }
}

/**
 * Reads up to this many bytes synchronously (a follower's chunk, a tail's step): each async fs
 * call is a round trip through libuv's thread pool (open, read, close: three), which on a busy
 * host took ~0.5 ms of a FollowLogs line's latency, while a read of fresh output from the page
 * cache takes microseconds. Longer reads (ReadLogs, up to 1 MiB) stay async: a cold one may wait
 * for the disk, and the daemon must not.
 */
export const SYNC_READ_MAX = 64 * 1024;

/** The current size of a file (0, or missing, when it is gone), read synchronously: one stat(2), for a read about to follow. */
export function sizeOfSync(path: string, missing = 0): number {
  try {
    return statSync(path).size;
  } catch {
    return missing;
  }
}

/**
 * A log file that would not open for reading: gone, nothing to read there; out of fds, the
 * reader must be told, not handed an empty read that looks like "no new output".
 */
function unopened(error: unknown, path: string): Buffer {
  const resource = resourceError(error, "opening the log file", path);
  if (resource) throw resource;
  return Buffer.alloc(0);
}

/** Reads length bytes at a physical position; short (or empty) if the file is shorter or gone. */
export async function readRange(path: string, position: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  if (length <= SYNC_READ_MAX) return readRangeSync(path, position, length);
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    return unopened(error, path);
  }
  try {
    // Not zero-filled: only the bytes read are handed out (subarray below).
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await handle.read(buffer, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/** readRange for short lengths (SYNC_READ_MAX), with the same outcomes, without the thread pool. */
function readRangeSync(path: string, position: number, length: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    return unopened(error, path);
  }
  try {
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const bytesRead = readSync(fd, buffer, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buffer.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads up to want bytes from a logical offset across the segments (oldest first), from the first
 * kept offset if the one asked for was dropped. Stops early where a segment was removed under it.
 */
export async function readAcross(segments: Segment[], offset: number, want: number): Promise<{ data: Buffer; offset: number; first: number; end: number }> {
  const first = segments[0].start;
  const lastSeg = segments[segments.length - 1];
  const end = lastSeg.start + lastSeg.size;
  let position = Math.max(offset, first);
  const parts: Buffer[] = [];
  let got = 0;
  for (const segment of segments) {
    if (got >= want) break;
    const segEnd = segment.start + segment.size;
    if (position >= segEnd) continue;
    const length = Math.min(segEnd - position, want - got);
    const data = await readRange(segment.path, segment.physical + position - segment.start, length);
    parts.push(data);
    got += data.length;
    position += data.length;
    if (data.length < length) break; // removed under us by the total cap: stop here
  }
  // One part (the usual case) is returned as read: Buffer.concat would copy it once more.
  const data = parts.length === 1 ? parts[0] : Buffer.concat(parts, got);
  return { data, offset: Math.max(offset, first), first, end };
}

/**
 * Copies [position, position+length) of one file into a new file: inside the kernel through the
 * helper (log-fallocate-helper.ts) where it can, else read and written here in bounded pieces.
 * A helper that refuses or dies leaves the copy to this process, which reports any real error
 * (a full disk) the way Node names it.
 */
export async function copyRange(from: string, position: number, length: number, to: string): Promise<void> {
  try {
    if ((await helperCopy(from, position, length, to)) === undefined) return;
  } catch {
    await rm(to, { force: true });
  }
  const source = await open(from, "r");
  try {
    const target = await open(to, "wx", 0o640);
    try {
      const buffer = Buffer.allocUnsafe(Math.min(length, 1 << 20));
      for (let done = 0; done < length; ) {
        const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, length - done), position + done);
        if (bytesRead === 0) throw new Error(`${from} ended at ${position + done}, before ${position + length}`);
        let written = 0;
        while (written < bytesRead) written += (await target.write(buffer, written, bytesRead - written)).bytesWritten;
        done += bytesRead;
      }
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Backups named 1..n by earlier versions (1 the newest, ending at `end`) get their offset names. */
export async function migrateNumbered(current: string, end: number): Promise<void> {
  if ((await listBackups(current)).numbered.length === 0) return;
  for (let n = 1; ; n++) {
    const path = `${current}.${n}`;
    const size = await sizeOf(path, -1);
    if (size < 0 || end - size < 0) break;
    end -= size;
    await rename(path, backupPath(current, end));
  }
}
