// Size rotation that loses nothing while the child keeps appending. The head of the current file
// is copied into backups (`.partial`), then cut off the file in place (collapse-range, or a
// punched hole: log-fallocate.ts), then the backups are renamed into the stream. Each phase is
// saved in the meta file first, so a daemon killed at any point leaves a state the next one
// finishes or undoes (recoverRotation): bytes are never in no file, and never counted twice.
import { randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { crashPoint } from "../failpoints.js";
import { describeResource, errnoOf } from "../resource-errors.js";
import { collapse, hasMarker, markerOf, punch, restoreHead, writeMarker } from "./log-fallocate.js";
import { recordGap, saveMeta, type LogMeta, type RotationRecord } from "./log-meta.js";
import { backupPath, chain, copyRange, listBackups, partialPath, readRange, sizeOf, type Backup } from "./log-segments.js";
import type { LogGapReason } from "./types.js";

/** One stream's files and bookkeeping, as LogFile holds them. */
export interface StreamFiles {
  path: string;
  metaPath: string;
  meta: LogMeta;
  /**
   * The backups as the rotation functions last left them (undefined: list the directory). The
   * daemon is the only writer of backups and the caller holds the file's turn, so the steps of
   * one turn list them once; anything that fails on the way drops the list.
   */
  backups?: Backup[];
}

async function backupsOf(files: StreamFiles): Promise<Backup[]> {
  files.backups ??= (await listBackups(files.path)).backups;
  return files.backups;
}

export interface RotationPlan {
  mode: "collapse" | "punch";
  /** Physical end (exclusive, block-aligned, below end of file) of what leaves the current file. */
  cut: number;
  /** Physical start and length of each backup to write, oldest first. */
  pieces: { physical: number; length: number }[];
  /** Logical offset before which everything goes (0: nothing beyond rotation's own backups). */
  dropTo: number;
  dropReason: LogGapReason;
}

/**
 * What a rotation of a file of `size` bytes would do. Backups are `chunk` bytes (max_bytes
 * rounded down to the block size, at least one block); more pieces than `keep` would only be
 * written to be removed, so the oldest are dropped with the older backups instead.
 * `dropAll`: keep nothing of the cut range (the total cap, a full disk).
 */
export function planRotation(
  meta: LogMeta,
  size: number,
  options: { mode: "collapse" | "punch"; blockSize: number; chunk: number; keep: number; dropAll?: LogGapReason; maxPieces?: number },
): RotationPlan | undefined {
  const { blockSize, chunk } = options;
  // Collapse must leave at least one byte (the range may not reach end of file).
  let cut = Math.floor((size - 1) / blockSize) * blockSize;
  if (cut <= meta.head) return undefined;
  const pieces: { physical: number; length: number }[] = [];
  if (!options.dropAll && options.keep > 0) {
    for (let at = meta.head; at < cut; at += chunk) pieces.push({ physical: at, length: Math.min(chunk, cut - at) });
  }
  const excess = Math.max(0, pieces.length - options.keep);
  let kept = pieces.slice(excess);
  if (options.maxPieces !== undefined && kept.length > options.maxPieces) {
    // This step cuts only up to its last piece; the next step plans from there.
    kept = kept.slice(0, Math.max(1, options.maxPieces));
    const last = kept[kept.length - 1];
    cut = last.physical + last.length;
  }
  let dropTo = 0;
  if (options.dropAll || options.keep === 0) dropTo = meta.base + cut;
  else if (excess > 0) dropTo = meta.base + kept[0].physical;
  return { mode: options.mode, cut, pieces: kept, dropTo, dropReason: options.dropAll ?? "backups" };
}

/**
 * Runs a planned rotation to its end. A failure before the cut undoes it (the file is as before);
 * a failure after it is finished by the next call of recoverRotation.
 */
export async function rotate(files: StreamFiles, plan: RotationPlan): Promise<void> {
  const { meta, path } = files;
  const record: RotationRecord = {
    id: randomBytes(8).toString("hex"),
    phase: plan.mode === "collapse" ? "copied" : "punching",
    mode: plan.mode,
    head: meta.head,
    base: meta.base,
    cut: plan.cut,
    pieces: plan.pieces.map((p) => meta.base + p.physical),
    dropTo: plan.dropTo,
    dropReason: plan.dropReason,
  };
  try {
    for (const piece of plan.pieces) await copyRange(path, piece.physical, piece.length, partialPath(path, meta.base + piece.physical));
  } catch (error) {
    await removePartials(files, record);
    throw error;
  }
  if (plan.mode === "collapse") {
    // The head's own bytes are kept in the record before the marker overwrites them.
    record.saved = (await readRange(path, meta.head, markerOf(record.id).length)).toString("base64");
  }
  meta.rotation = record;
  await saveMeta(files.metaPath, meta);
  crashPoint("log-rotation-copied");
  if (plan.mode === "collapse") {
    await writeMarker(path, meta.head, record.id);
    record.phase = "marked";
    await saveMeta(files.metaPath, meta);
    crashPoint("log-rotation-marked");
    try {
      await collapse(path, plan.cut);
    } catch (error) {
      // The marker says whether the cut happened (a helper that died under the call does not).
      if (await hasMarker(path, record.head, record.id)) {
        await undo(files, record);
        const undone = new Error(
          `${error instanceof Error ? error.message : String(error)}; the marker is still at the head, so nothing was cut: the rotation was undone`,
        );
        throw Object.assign(undone, { code: errnoOf(error) });
      }
    }
  } else {
    await punch(path, meta.head, plan.cut - meta.head);
  }
  crashPoint("log-rotation-cut");
  commit(files, record);
  crashPoint("log-rotation-committed");
  await finish(files, record);
}

/**
 * Finishes or undoes the rotation a previous daemon left in the meta file. Collapse: the marker
 * still at the head means the cut did not happen (undo: put the head back, drop the copies);
 * gone means it did (finish). Punch: punching again is harmless, so it is finished.
 * Returns what it did, for the journal.
 */
export async function recoverRotation(files: StreamFiles): Promise<string | undefined> {
  const record = files.meta.rotation;
  if (!record) return undefined;
  const at = `${files.path}: the rotation ${record.id} a previous daemon left (${record.phase})`;
  switch (record.phase) {
    case "copied":
    case "marked": {
      if (record.phase === "copied" || (await hasMarker(files.path, record.head, record.id))) {
        await undo(files, record);
        return `${at} was undone: it had not cut the file yet`;
      }
      commit(files, record);
      await finish(files, record);
      return `${at} was finished: the file was already cut`;
    }
    case "punching":
      await punch(files.path, record.head, record.cut - record.head);
      commit(files, record);
      await finish(files, record);
      return `${at} was finished`;
    case "committed":
      await finish(files, record);
      return `${at} was finished`;
  }
}

/**
 * The cut is done: the offsets move, in memory only. The meta file keeps the phase before the
 * cut until finish() saves the end: a daemon killed in between finds "marked" with the marker
 * gone (the cut happened) or "punching" (punching again is harmless), and commits and finishes
 * from the record, as it would from "committed". The record, not the meta's base and head, says
 * where the offsets go, so one save fewer loses nothing.
 */
function commit(files: StreamFiles, record: RotationRecord): void {
  const { meta } = files;
  meta.base = record.mode === "collapse" ? record.base + record.cut : record.base;
  meta.head = record.mode === "collapse" ? 0 : record.cut;
  record.phase = "committed";
}

/**
 * Renames the copies into the stream, removes what the plan drops, forgets the rotation: the gap
 * the drop leaves and the end of the rotation in one meta write. A daemon killed before it
 * finishes again from the record (renames of copies already renamed are skipped); after it, only
 * backups the meta says are dropped can be left, which the next drop removes (dropBefore).
 */
async function finish(files: StreamFiles, record: RotationRecord): Promise<void> {
  const known = files.backups;
  files.backups = undefined;
  for (const start of record.pieces) {
    const partial = partialPath(files.path, start);
    if (existsSync(partial)) renameSync(partial, backupPath(files.path, start));
  }
  if (known) files.backups = withPieces(known, files.path, record);
  const doomed = record.dropTo > 0 ? await markDropped(files, record.dropTo, record.dropReason, record.base + record.head) : [];
  files.meta.rotation = undefined;
  await saveMeta(files.metaPath, files.meta);
  removeAll(doomed);
}

/**
 * Removes every backup that starts before `offset`, and remembers the range as dropped (from the
 * oldest backup, or from `since` when the cut itself dropped bytes of the current file).
 */
export async function dropBefore(files: StreamFiles, offset: number, reason: LogGapReason, since = offset): Promise<void> {
  const doomed = await markDropped(files, offset, reason, since);
  await saveMeta(files.metaPath, files.meta);
  removeAll(doomed);
}

/**
 * Renames and removals in the log directory are synchronous: one metadata syscall each, cheaper
 * than a thread-pool round trip (as saveMeta, log-meta.ts).
 */
function removeAll(paths: string[]): void {
  for (const path of paths) rmSync(path, { force: true });
}

/**
 * Records the gap dropBefore leaves (in memory) and returns the backups to remove once it is
 * saved. Said before the files go: a crash in between leaves a gap record over kept bytes, which
 * readers ignore (gaps are reported only below the first kept offset), never the reverse.
 */
async function markDropped(files: StreamFiles, offset: number, reason: LogGapReason, since: number): Promise<string[]> {
  const backups = await backupsOf(files);
  const first = Math.min(backups[0]?.start ?? since, since);
  recordGap(files.meta, first, offset, reason);
  files.backups = backups.filter((backup) => backup.start >= offset);
  return backups.filter((backup) => backup.start < offset).map((backup) => backup.path);
}

/** The list after finish() renamed a rotation's copies into backups (the piece ends where the next one, or the cut, begins). */
function withPieces(backups: Backup[], path: string, record: RotationRecord): Backup[] {
  const ends = [...record.pieces.slice(1), record.base + record.cut];
  const added = record.pieces.map((start, i) => ({ path: backupPath(path, start), start, size: ends[i] - start, mtimeMs: Date.now() }));
  return [...backups.filter((b) => !record.pieces.includes(b.start)), ...added].sort((a, b) => a.start - b.start);
}

async function undo(files: StreamFiles, record: RotationRecord): Promise<void> {
  if (record.saved !== undefined && (await hasMarker(files.path, record.head, record.id))) {
    await restoreHead(files.path, record.head, Buffer.from(record.saved, "base64"));
  }
  await removePartials(files, record);
  files.meta.rotation = undefined;
  await saveMeta(files.metaPath, files.meta);
}

async function removePartials(files: StreamFiles, record: RotationRecord): Promise<void> {
  removeAll(record.pieces.map((start) => partialPath(files.path, start)));
}

/**
 * The rotation a file of `size` bytes is due for, with what follows: at most `backups` backups
 * kept (the oldest beyond go; offsets unchanged, the kept range starts later). On a full disk
 * (no room for the copies) the head is cut without them, so the program's next output has room;
 * the older backups go too (kept after a gap, the stream would have a hole in the middle).
 * One step copies at most one backup (the caller repeats while the file is over max_bytes).
 * Returns the message that says what was dropped, with the exact offsets; false when nothing was due.
 */
export async function rotateDue(
  files: StreamFiles,
  size: number,
  options: { mode: "collapse" | "punch"; blockSize: number; maxBytes: number; backups: number },
): Promise<string | false | undefined> {
  const { mode, blockSize } = options;
  const chunk = Math.max(blockSize, Math.floor(options.maxBytes / blockSize) * blockSize);
  const plan = planRotation(files.meta, size, { mode, blockSize, chunk, keep: options.backups, maxPieces: 1 });
  if (!plan) return false;
  // The backups beyond log.backups this step makes go in its own drop (one meta write with its end).
  const starts = [...(await backupsOf(files)).map((b) => b.start), ...plan.pieces.map((p) => files.meta.base + p.physical)];
  if (options.backups > 0 && starts.length > options.backups) plan.dropTo = Math.max(plan.dropTo, starts[starts.length - options.backups]);
  try {
    await rotate(files, plan);
  } catch (error) {
    files.backups = undefined;
    const errno = errnoOf(error);
    if (errno !== "ENOSPC" && errno !== "EDQUOT") throw error;
    const { backups } = await listBackups(files.path);
    const first = chain({ path: files.path, start: files.meta.base + files.meta.head, size: size - files.meta.head, physical: files.meta.head }, backups)[0]
      .start;
    const dropTo = await cutAll(files, size, mode, blockSize, "disk_full");
    if (dropTo === undefined) throw error;
    return `rotating ${files.path}: ${describeResource(errno)} while copying it to a backup; rotated without a backup: dropped ${dropTo - first} bytes (offsets ${first}-${dropTo}, the backups included)`;
  }
  return undefined;
}

/** Cuts the current file down to its last partial block, keeping nothing of the cut (nor older backups). Returns the new first offset. */
export async function cutAll(
  files: StreamFiles,
  size: number,
  mode: "collapse" | "punch",
  blockSize: number,
  reason: LogGapReason,
): Promise<number | undefined> {
  const plan = planRotation(files.meta, size, { mode, blockSize, chunk: blockSize, keep: 0, dropAll: reason });
  if (!plan) return undefined;
  await rotate(files, plan);
  return plan.dropTo;
}

/**
 * Rotates a file of `size` bytes in steps of one backup's worth: the copy a step has in flight
 * (the bytes then on disk twice) is at most one chunk, however far behind the file is (README
 * "Logs", "How much disk"). As many steps as the file held backups' worth when the check began:
 * a writer faster than the steps does not keep readers (who wait for a rotation) waiting; the
 * next check goes on. After each step that rotated, onStep gets what it dropped (undefined: nothing).
 * Stops early, returning true, when `yieldTurn` says someone waits (a drop of the total cap must
 * not wait for a whole backlog of steps: it waited behind them while 100 writers' rotations
 * turned 47 MiB into backups against a 4 MiB cap); the caller goes on after them.
 */
export async function rotateInSteps(
  files: StreamFiles,
  size: number,
  options: { mode: "collapse" | "punch"; blockSize: number; maxBytes: number; backups: number },
  onStep: (dropped: string | undefined) => void,
  yieldTurn: () => boolean = () => false,
): Promise<boolean> {
  const chunk = Math.max(options.blockSize, Math.floor(options.maxBytes / options.blockSize) * options.blockSize);
  let steps = Math.ceil((size - files.meta.head) / chunk);
  for (let at = size; steps-- > 0 && at - files.meta.head >= options.maxBytes; at = await sizeOf(files.path)) {
    const dropped = await rotateDue(files, at, options);
    if (dropped === false) return false;
    onStep(dropped);
    if (yieldTurn() && steps > 0) return true;
  }
  return false;
}
