// Removing the head of a file that a child keeps appending to, without losing its writes:
// FALLOC_FL_COLLAPSE_RANGE (ext4, xfs) shifts the rest of the file down in one step under the
// inode lock, so an O_APPEND write lands either before the cut (and is cut with it, after being
// copied out) or after it. Where collapse is not supported (tmpfs, btrfs...) FALLOC_FL_PUNCH_HOLE
// frees the head's blocks in place: offsets in the file never move, the file becomes sparse.
// Node has no binding for fallocate(2): a long-lived perl process makes the calls
// (log-fallocate-helper.ts); where it cannot, util-linux's fallocate(1) does (one spawn per cut).
import { execFile } from "node:child_process";
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, HelperError, helperFallocate, helperWriteOut } from "./log-fallocate-helper.js";

export type CutMode = "collapse" | "punch" | "none";

export class FallocateError extends Error {
  constructor(
    message: string,
    readonly unsupported: boolean,
  ) {
    super(message);
    this.name = "FallocateError";
  }
}

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("fallocate", args, { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const text = `${stderr}`.trim() || error.message;
      const unsupported = /not supported|ENOENT|not found/i.test(text) || (error as NodeJS.ErrnoException).code === "ENOENT";
      reject(new FallocateError(`fallocate ${args.join(" ")}: ${text}`, unsupported));
    });
  });
}

/** EOPNOTSUPP, ENOSYS: the filesystem (or kernel) cannot. */
const UNSUPPORTED_ERRNOS = new Set([95, 38]);

/**
 * One fallocate(2) call: through the helper when there is one, else fallocate(1). `repeatable`:
 * doing the call twice is harmless (a punch), so a helper that died under it is answered by
 * doing it again with fallocate(1); a collapse is not (it would cut twice): the caller is told.
 */
async function fallocate(mode: number, offset: number, length: number, path: string, args: string[], repeatable: boolean): Promise<void> {
  const what = `fallocate ${args.join(" ")}`;
  try {
    if ((await helperFallocate(mode, offset, length, path)) === undefined) return;
  } catch (error) {
    if (!(error instanceof HelperError)) throw error;
    if (error.errno !== undefined) throw new FallocateError(`${what}: ${error.message}`, UNSUPPORTED_ERRNOS.has(error.errno));
    if (!repeatable) throw new FallocateError(`${what}: ${error.message}; whether the file was cut is not known`, false);
  }
  await run(args);
}

/**
 * Removes [0, length) from the file; the rest moves down by length. length: a multiple of the
 * block size, < file size. `repeatable`: cutting twice is harmless (the probe's scratch file), so
 * a helper that died under the call is answered by doing it again with fallocate(1).
 */
export async function collapse(path: string, length: number, repeatable = false): Promise<void> {
  await writeOutAfter(path, length);
  const args = ["--collapse-range", "--offset", "0", "--length", String(length), path];
  return fallocate(FALLOC_FL_COLLAPSE_RANGE, 0, length, path, args, repeatable);
}

/**
 * Writes out the dirty pages the collapse will shift (from `from` to the end) before it. The
 * kernel (ext4) writes them back itself under the inode lock, and the child's next write waits
 * for that lock: with a backup's worth of dirty data the collapse took 20-25 ms (10 MiB backups)
 * while the writer stood still, 9-16 ms when written out first. Written out first, without the
 * lock, only what the child wrote meanwhile is left for the collapse. The head being cut is not
 * written (it is copied already and about to go). Best effort: a failure here leaves the work to
 * the collapse, as before.
 */
async function writeOutAfter(path: string, from: number): Promise<void> {
  try {
    if ((await helperWriteOut(from, path)) === undefined) return;
  } catch {
    // no sync_file_range here (or the helper went): fdatasync below
  }
  try {
    const handle = await open(path, "r+");
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  } catch {
    // the collapse writes back what is left, and reports what fails
  }
}

/** Frees [offset, offset+length) in place (reads return zeros there); the file's size is unchanged. */
export function punch(path: string, offset: number, length: number): Promise<void> {
  const args = ["--punch-hole", "--offset", String(offset), "--length", String(length), path];
  return fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length, path, args, true);
}

const modes = new Map<string, Promise<{ mode: CutMode; why?: string }>>();

/** What this directory's filesystem supports, tried once per directory on a scratch file. */
export function cutModeOf(dir: string, blockSize: number): Promise<{ mode: CutMode; why?: string }> {
  let mode = modes.get(dir);
  if (!mode) {
    mode = probe(dir, blockSize);
    modes.set(dir, mode);
  }
  return mode;
}

async function probe(dir: string, blockSize: number): Promise<{ mode: CutMode; why?: string }> {
  const scratch = join(dir, `.fallocate-probe-${process.pid}`);
  try {
    // Three blocks: a collapse done again (the helper died under the first) still leaves one.
    await writeFile(scratch, Buffer.alloc(blockSize * 3, 1));
    try {
      await collapse(scratch, blockSize, true);
      return { mode: "collapse" };
    } catch (collapseError) {
      try {
        await punch(scratch, 0, blockSize);
        return { mode: "punch", why: (collapseError as Error).message };
      } catch (punchError) {
        return { mode: "none", why: `${(collapseError as Error).message}; ${(punchError as Error).message}` };
      }
    }
  } catch (error) {
    return { mode: "none", why: (error as Error).message };
  } finally {
    await rm(scratch, { force: true });
  }
}

/** The marker a collapse rotation writes over the head it is about to cut: still there = not cut yet. */
export function markerOf(id: string): Buffer {
  return Buffer.from(`\ncorral-rotation ${id}\n`);
}

// The marker's reads and writes are a few dozen bytes at the file's head, in the page cache:
// synchronous (open, pread or pwrite, close) costs less than the thread pool's round trip per
// call, as saveMeta (log-meta.ts). Async for their callers.

function withFd<T>(path: string, flags: "r" | "r+", fn: (fd: number) => T): T {
  const fd = openSync(path, flags);
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the marker at a physical offset (our own fd, not O_APPEND); returns the bytes it overwrote. */
export async function writeMarker(path: string, at: number, id: string): Promise<Buffer> {
  const marker = markerOf(id);
  return withFd(path, "r+", (fd) => {
    const saved = Buffer.alloc(marker.length);
    const bytesRead = readSync(fd, saved, 0, marker.length, at);
    if (bytesRead !== marker.length) throw new Error(`${path}: ${bytesRead} bytes at ${at}, the marker needs ${marker.length}`);
    writeSync(fd, marker, 0, marker.length, at);
    return saved;
  });
}

export async function hasMarker(path: string, at: number, id: string): Promise<boolean> {
  const marker = markerOf(id);
  return withFd(path, "r", (fd) => {
    const found = Buffer.alloc(marker.length);
    return readSync(fd, found, 0, marker.length, at) === marker.length && found.equals(marker);
  });
}

/** Puts back the bytes a marker overwrote (undoing a rotation that did not cut). */
export async function restoreHead(path: string, at: number, saved: Buffer): Promise<void> {
  withFd(path, "r+", (fd) => writeSync(fd, saved, 0, saved.length, at));
}
