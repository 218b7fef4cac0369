// A stream's bookkeeping next to its log file: where logical offsets start (base, head), the
// ranges dropped so far and why (reported to readers and followers), and the rotation under way
// (so the next daemon can finish or undo one that a kill -9 interrupted). Saved by temp file +
// rename, so a crash leaves either the old or the new version, never a torn one.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { LogGap, LogGapReason, LogStreamName } from "./types.js";

/** Dropped ranges remembered with their reason; older ones merge into "backups". */
const MAX_GAPS = 64;

export interface StoredGap {
  from: number;
  to: number;
  reason: LogGapReason;
}

/**
 * One rotation, in the order of its phases (log-rotation.ts):
 * copied -> (collapse) marked -> committed, or (punch) punching -> committed.
 */
export interface RotationRecord {
  id: string;
  phase: "copied" | "marked" | "punching" | "committed";
  mode: "collapse" | "punch";
  /** The current file's head and base when the rotation began. */
  head: number;
  base: number;
  /** Physical offset up to which the current file's bytes leave it (exclusive; block-aligned). */
  cut: number;
  /** Logical starts of the backups it writes (`.partial` until committed), oldest first. */
  pieces: number[];
  /** Everything before this logical offset is dropped (older backups removed too), for dropReason. */
  dropTo: number;
  dropReason: LogGapReason;
  /** The bytes the collapse marker overwrote at `head` (base64), so the rotation can be undone. */
  saved?: string;
}

export interface LogMeta {
  /** Logical offset of the current file's physical byte 0. */
  base: number;
  /** Physical offset of the current file's first kept byte (> 0 only after hole-punching). */
  head: number;
  gaps: StoredGap[];
  rotation?: RotationRecord;
}

export async function loadMeta(path: string): Promise<LogMeta> {
  // No meta yet: the stream was never rotated.
  return parseMeta(await readFile(path, "utf8").catch(() => "{}"));
}

/** The same, synchronously (a LogFile's constructor: its end offset is needed before any await). */
export function loadMetaSync(path: string): LogMeta {
  try {
    return parseMeta(readFileSync(path, "utf8"));
  } catch {
    return { base: 0, head: 0, gaps: [] };
  }
}

function parseMeta(text: string): LogMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = {};
  }
  const meta = (typeof raw === "object" && raw !== null ? raw : {}) as Partial<LogMeta>;
  const number = (value: unknown) => (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : 0);
  return {
    base: number(meta.base),
    head: number(meta.head),
    gaps: Array.isArray(meta.gaps) ? meta.gaps.filter((g) => typeof g?.from === "number" && typeof g?.to === "number") : [],
    ...(meta.rotation && typeof meta.rotation.id === "string" ? { rotation: meta.rotation } : {}),
  };
}

/**
 * Replaces the meta file (a temporary file renamed over it: a crash leaves the old or the new).
 * Synchronous: a few hundred bytes into the page cache and a rename, ~140 µs of CPU, where the
 * same through the thread pool (four round trips) cost ~450 µs, three times a rotation (README
 * "Logs", "What rotation costs"). Async for its callers, which await it between phases.
 */
export async function saveMeta(path: string, meta: LogMeta): Promise<void> {
  const temp = `${path}.tmp`;
  writeFileSync(temp, JSON.stringify(meta));
  renameSync(temp, path);
}

/** Remembers that [from, to) was dropped for reason (merged with an adjacent range of the same reason). */
export function recordGap(meta: LogMeta, from: number, to: number, reason: LogGapReason): void {
  if (to <= from) return;
  const last = meta.gaps[meta.gaps.length - 1];
  if (last && last.reason === reason && last.to >= from) last.to = Math.max(last.to, to);
  else meta.gaps.push({ from, to, reason });
  if (meta.gaps.length > MAX_GAPS) meta.gaps.splice(0, meta.gaps.length - MAX_GAPS);
}

/**
 * The dropped ranges covering [from, to): those recorded, with their reason; any part not
 * recorded went by rotation beyond log.backups (or before this bookkeeping existed).
 */
export function gapsBetween(meta: LogMeta, name: { stream: LogStreamName; label: string }, from: number, to: number): LogGap[] {
  const gaps: LogGap[] = [];
  const { stream, label } = name;
  let at = from;
  for (const gap of meta.gaps) {
    if (gap.to <= at || gap.from >= to) continue;
    if (gap.from > at) gaps.push({ stream, label, fromOffset: at, toOffset: gap.from, reason: "backups" });
    const end = Math.min(gap.to, to);
    gaps.push({ stream, label, fromOffset: Math.max(gap.from, at), toOffset: end, reason: gap.reason });
    at = end;
  }
  if (at < to) gaps.push({ stream, label, fromOffset: at, toOffset: to, reason: "backups" });
  return gaps;
}
