// Disk full and out of file descriptors, said in words: which path, what ran out, and the limit.
// The daemon keeps running through both; the operation that hit them gets a ResourceExhaustedError.
import { readFileSync } from "node:fs";
import { ResourceExhaustedError } from "./errors.js";

const RESOURCE_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EMFILE", "ENFILE"]);

/** Read once at start: under EMFILE, /proc/self/limits itself cannot be opened. */
let cachedFdLimit = readOpenFileLimit();

function readOpenFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return match && match[1] !== "unlimited" ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** This process's limit on open files (RLIMIT_NOFILE, soft), when known. */
export function openFileLimit(): number | undefined {
  cachedFdLimit = readOpenFileLimit() ?? cachedFdLimit;
  return cachedFdLimit;
}

export function errnoOf(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

export function isResourceError(error: unknown): boolean {
  return error instanceof ResourceExhaustedError || RESOURCE_ERRNOS.has(errnoOf(error) ?? "");
}

/** "disk full (ENOSPC)", "too many open files (limit 64, EMFILE)"...; undefined for other errors. */
export function describeResource(errno: string | undefined): string | undefined {
  switch (errno) {
    case "ENOSPC":
      return "disk full (ENOSPC)";
    case "EDQUOT":
      return "disk quota exceeded (EDQUOT)";
    case "EMFILE": {
      const limit = openFileLimit();
      return `too many open files (limit ${limit ?? "unknown"}, EMFILE): the daemon's file descriptor limit (ulimit -n) is used up`;
    }
    case "ENFILE":
      return "too many open files in the system (ENFILE): the host's limit (fs.file-max) is used up";
    default:
      return undefined;
  }
}

/**
 * A ResourceExhaustedError for `what` (e.g. "writing the state file") on path when error is a
 * resource errno; undefined otherwise (the caller rethrows).
 */
export function resourceError(error: unknown, what: string, path: string): ResourceExhaustedError | undefined {
  if (error instanceof ResourceExhaustedError) return error;
  const errno = errnoOf(error);
  const words = describeResource(errno);
  return words === undefined || errno === undefined ? undefined : new ResourceExhaustedError(`${what} ${path}: ${words}`, errno, path);
}
