// The rules for the values a config holds (durations, sizes, signals, commands, addresses), as
// zod fields whose error text is ours: shared by a program's schema and the config file's.
import { z } from "zod";
import { InvalidArgumentError } from "../core/errors.js";
import { DURATION_HINT, durationToMs } from "../core/duration.js";
import { MAX_DURATION_MS } from "../core/limits.js";
import { parseSignal } from "../core/os/signals.js";

export const PROGRAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const PROGRAM_NAME_RULE = 'bad program name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit)';

export type Parsed<T> = { ok: true; value: T } | { ok: false; rule: string; path?: (string | number)[] };

/** A field checked by a plain function, so its rule text is ours rather than zod's. */
export function parsedBy<T>(parse: (input: unknown) => Parsed<T>) {
  return z.unknown().transform((input, ctx): T => {
    const result = parse(input);
    if (result.ok) return result.value;
    ctx.issues.push({ code: "custom", message: result.rule, input, path: result.path ?? [] });
    return z.NEVER;
  });
}

/** Objects reject unknown keys and say which keys they do take. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? `unknown key (allowed: ${allowed})` : undefined),
  });
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

export function parseDuration(input: unknown): Parsed<number> {
  const ms = durationToMs(input);
  if (ms === undefined) return { ok: false, rule: `bad duration ${describeValue(input)} (${DURATION_HINT})` };
  if (ms > MAX_DURATION_MS) return { ok: false, rule: `duration ${describeValue(input)} is too long (at most 596h)` };
  return { ok: true, value: ms };
}

const SIZE_UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

export function parseByteSize(input: unknown, zeroMeans = "0 turns rotation off"): Parsed<number> {
  let bytes: number | undefined;
  if (typeof input === "number") {
    if (Number.isSafeInteger(input) && input >= 0) bytes = input;
  } else if (typeof input === "string") {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(input.trim());
    const unit = match ? SIZE_UNIT_BYTES[(match[2] || "b").toLowerCase()] : undefined;
    if (match && unit !== undefined) bytes = Math.floor(Number(match[1]) * unit);
  }
  if (bytes === undefined) {
    return { ok: false, rule: `bad size ${describeValue(input)} (use a number of bytes, or e.g. 512KiB, 10MiB, 1MB, 1GB; ${zeroMeans})` };
  }
  return { ok: true, value: bytes };
}

export function parseStopSignal(input: unknown): Parsed<NodeJS.Signals> {
  if (typeof input === "string" || typeof input === "number") {
    try {
      return { ok: true, value: parseSignal(input) };
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
    }
  }
  return { ok: false, rule: `unknown signal ${describeValue(input)} (use a name like SIGTERM or TERM, or its number)` };
}

/** argv as a list, or one string for /bin/sh -c so pipes and $VARS work as users expect. */
export function parseCommand(input: unknown): Parsed<string[]> {
  if (input === undefined) return { ok: false, rule: "required (a list like [node, app.js], or a shell command string)" };
  if (typeof input === "string") {
    if (input.trim() === "") return { ok: false, rule: "must not be empty" };
    // The OS cannot pass a NUL byte in an argument: refuse it here rather than fail every spawn.
    if (input.includes("\0")) return { ok: false, rule: "must not contain a NUL byte" };
    return { ok: true, value: ["/bin/sh", "-c", input] };
  }
  if (Array.isArray(input)) {
    if (input.length === 0) return { ok: false, rule: "must not be empty (give at least the executable)" };
    const bad = input.findIndex((arg) => typeof arg !== "string");
    if (bad >= 0) return { ok: false, rule: `must be a string (quote it), got ${describeValue(input[bad])}`, path: [bad] };
    if (input[0] === "") return { ok: false, rule: "the executable must not be empty", path: [0] };
    const withNul = input.findIndex((arg: string) => arg.includes("\0"));
    if (withNul >= 0) return { ok: false, rule: "must not contain a NUL byte", path: [withNul] };
    return { ok: true, value: input as string[] };
  }
  return { ok: false, rule: `expected a list of strings or a shell command string, got ${describeValue(input)}` };
}

export function parseAddress(input: unknown): Parsed<string> {
  const match = typeof input === "string" ? /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(input) : null;
  if (!match || Number(match[2]) > 65535) {
    return { ok: false, rule: `bad address ${describeValue(input)} (use host:port, e.g. 127.0.0.1:7070 or [::1]:7070)` };
  }
  return { ok: true, value: input as string };
}

/** Values must be strings: YAML would otherwise turn 0755 or "on" into something else silently. */
export const quotedString = z.string({
  error: (issue) => (issue.input === undefined ? "required" : `must be a string (quote it), got ${describeValue(issue.input)}`),
});

export const stringMap = (what: string) =>
  z.record(z.string().regex(/^[^=\0]+$/, { error: `${what} names must not be empty or contain "=" or NUL` }), quotedString, {
    error: (issue) => (issue.code === "invalid_type" ? `expected a mapping of ${what} names to strings, got ${describeValue(issue.input)}` : undefined),
  });

export const duration = (fallback: string) => parsedBy(parseDuration).prefault(fallback);

export const nonNegativeInt = (fallback: number) =>
  z
    .int({ error: (issue) => `must be a whole number >= 0, got ${describeValue(issue.input)}` })
    .min(0, { error: "must be >= 0" })
    .default(fallback);

export function parseRegex(input: unknown): Parsed<string> {
  if (typeof input !== "string" || input === "") return { ok: false, rule: `expected a regular expression (a non-empty string), got ${describeValue(input)}` };
  try {
    new RegExp(input);
    return { ok: true, value: input };
  } catch (error) {
    return { ok: false, rule: `bad regular expression: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export const positiveInt = (fallback: number) =>
  z
    .int({ error: (issue) => `must be a whole number >= 1, got ${describeValue(issue.input)}` })
    .min(1, { error: "must be >= 1" })
    .default(fallback);

/** A daemon's address as clients dial it: "host:port" (any host: TLS is the client's business) or "unix:/path". */
export function parseHostAddress(input: unknown): Parsed<string> {
  if (typeof input === "string" && input.startsWith("unix:")) {
    const path = input.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "" || path.includes("\0")) return { ok: false, rule: `bad socket address ${describeValue(input)} (use unix:/path/to/corral.sock)` };
    return { ok: true, value: `unix:${path}` };
  }
  const parsed = parseAddress(input);
  return parsed.ok ? parsed : { ok: false, rule: `bad address ${describeValue(input)} (use host:port, e.g. 10.0.0.2:7070, or unix:/path/to/corral.sock)` };
}
