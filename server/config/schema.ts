// The config file's schema, written once: it validates the YAML and normalises its values
// (durations to ms, sizes to bytes, signal names, shell commands to argv).
import { z } from "zod";
import { InvalidArgumentError } from "../core/errors.js";
import { dependencyProblems } from "../core/process/dependencies.js";
import { parseSignal } from "../core/os/signals.js";
import type { ProbeConfig } from "../core/process/types.js";

export const PROGRAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** setTimeout fires at once for longer delays, so no duration (config or wire) may exceed this. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export const PROGRAM_NAME_RULE = 'bad program name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit)';

type Parsed<T> = { ok: true; value: T } | { ok: false; rule: string; path?: (string | number)[] };

/** A field checked by a plain function, so its rule text is ours rather than zod's. */
function parsedBy<T>(parse: (input: unknown) => Parsed<T>) {
  return z.unknown().transform((input, ctx): T => {
    const result = parse(input);
    if (result.ok) return result.value;
    ctx.issues.push({ code: "custom", message: result.rule, input, path: result.path ?? [] });
    return z.NEVER;
  });
}

/** Objects reject unknown keys and say which keys they do take. */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
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

const DURATION_HINT = "use e.g. 500ms, 10s, 2m, 1m30s, or a number of seconds";
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(input: unknown): Parsed<number> {
  let ms: number | undefined;
  if (typeof input === "number") {
    // A bare number means seconds, as in supervisord's startsecs.
    if (Number.isFinite(input) && input >= 0) ms = Math.round(input * 1000);
  } else if (typeof input === "string" && /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/.test(input.trim())) {
    ms = 0;
    for (const [, amount, unit] of input.trim().matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
      ms += Number(amount) * DURATION_UNIT_MS[unit];
    }
    ms = Math.round(ms);
  }
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

const LOOPBACK_HOSTS = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** True for "127.x.y.z:port", "[::1]:port" and "localhost:port". */
export function isLoopbackAddress(address: string): boolean {
  const colon = address.lastIndexOf(":");
  return LOOPBACK_HOSTS.test(colon < 0 ? address : address.slice(0, colon));
}

function parseAddress(input: unknown): Parsed<string> {
  const match = typeof input === "string" ? /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(input) : null;
  if (!match || Number(match[2]) > 65535) {
    return { ok: false, rule: `bad address ${describeValue(input)} (use host:port, e.g. 127.0.0.1:7070 or [::1]:7070)` };
  }
  return { ok: true, value: input as string };
}

/** True when server.auth names at least one way in (a token or a client certificate). */
export function hasAuthMethods(auth?: { tokens: unknown[]; clients: unknown[] }): boolean {
  return auth !== undefined && auth.tokens.length + auth.clients.length > 0;
}

/** The rule a listener beyond loopback breaks without TLS and auth (shared with the rpc layer's check of --listen). */
export const BEYOND_LOOPBACK_RULE =
  "listening beyond loopback (127.0.0.0/8, [::1], localhost) needs TLS (server.tls) and authentication (server.auth: tokens or client certificates), or --insecure (server.insecure: true) to accept the risk";

/** Values must be strings: YAML would otherwise turn 0755 or "on" into something else silently. */
const quotedString = z.string({
  error: (issue) => (issue.input === undefined ? "required" : `must be a string (quote it), got ${describeValue(issue.input)}`),
});

const stringMap = (what: string) =>
  z.record(
    z.string().regex(/^[^=\0]+$/, { error: `${what} names must not be empty or contain "=" or NUL` }),
    quotedString,
    { error: (issue) => (issue.code === "invalid_type" ? `expected a mapping of ${what} names to strings, got ${describeValue(issue.input)}` : undefined) },
  );

const duration = (fallback: string) => parsedBy(parseDuration).prefault(fallback);

const nonNegativeInt = (fallback: number) =>
  z.int({ error: (issue) => `must be a whole number >= 0, got ${describeValue(issue.input)}` }).min(0, { error: "must be >= 0" }).default(fallback);

const backoffSchema = strictObject({
  initial: duration("1s"),
  max: duration("30s"),
  multiplier: z.number().min(1, { error: "must be >= 1" }).default(2),
  reset_after: duration("30s"),
}).check((ctx) => {
  if (ctx.value.max < ctx.value.initial) {
    ctx.issues.push({ code: "custom", message: "must be >= backoff.initial", input: ctx.value.max, path: ["max"] });
  }
});

const logSchema = strictObject({
  max_bytes: parsedBy(parseByteSize).prefault("10MiB"),
  backups: z.int({ error: (issue) => `must be a whole number from 0 to 100, got ${describeValue(issue.input)}` })
    .min(0, { error: "must be from 0 to 100" })
    .max(100, { error: "must be from 0 to 100" })
    .default(5),
});

function parseRegex(input: unknown): Parsed<string> {
  if (typeof input !== "string" || input === "") return { ok: false, rule: `expected a regular expression (a non-empty string), got ${describeValue(input)}` };
  try {
    new RegExp(input);
    return { ok: true, value: input };
  } catch (error) {
    return { ok: false, rule: `bad regular expression: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const positiveInt = (fallback: number) =>
  z.int({ error: (issue) => `must be a whole number >= 1, got ${describeValue(issue.input)}` }).min(1, { error: "must be >= 1" }).default(fallback);

const PROBE_KINDS = ["tcp", "exec", "log", "grpc"] as const;

/** readiness / liveness: exactly one check (tcp, exec, log, grpc) and its timing. */
const probeSchema = strictObject({
  tcp: parsedBy(parseAddress).optional(),
  exec: parsedBy(parseCommand).optional(),
  log: z
    .preprocess((input) => (typeof input === "string" ? { pattern: input } : input), strictObject({ pattern: parsedBy(parseRegex), stream: z.enum(["stdout", "stderr"]).optional() }))
    .optional(),
  grpc: z
    .preprocess((input) => (typeof input === "string" ? { address: input } : input), strictObject({ address: parsedBy(parseAddress), service: z.string().default("") }))
    .optional(),
  period: duration("1s"),
  timeout: duration("1s"),
  initial_delay: duration("0s"),
  /** Readiness only: how long a run may stay STARTING waiting for the probe before the start counts as failed. */
  start_timeout: duration("60s"),
  success_threshold: positiveInt(1),
  failure_threshold: positiveInt(3),
})
  .check((ctx) => {
    const given = PROBE_KINDS.filter((kind) => ctx.value[kind] !== undefined);
    if (given.length !== 1) {
      const rule = given.length === 0 ? "needs one check: tcp, exec, log or grpc" : `give one check, not ${given.join(" and ")}`;
      ctx.issues.push({ code: "custom", message: rule, input: ctx.value, path: [] });
    }
    if (ctx.value.period === 0) ctx.issues.push({ code: "custom", message: "must be more than 0", input: 0, path: ["period"] });
    if (ctx.value.timeout === 0) ctx.issues.push({ code: "custom", message: "must be more than 0", input: 0, path: ["timeout"] });
    if (ctx.value.start_timeout === 0) ctx.issues.push({ code: "custom", message: "must be more than 0", input: 0, path: ["start_timeout"] });
  })
  .transform((probe): ProbeConfig => {
    const timing = {
      periodMs: probe.period,
      timeoutMs: probe.timeout,
      initialDelayMs: probe.initial_delay,
      successThreshold: probe.success_threshold,
      failureThreshold: probe.failure_threshold,
      startTimeoutMs: probe.start_timeout,
    };
    const hostPort = (address: string) => {
      const colon = address.lastIndexOf(":");
      return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(address.slice(colon + 1)) };
    };
    if (probe.tcp !== undefined) return { ...timing, check: { kind: "tcp", ...hostPort(probe.tcp) } };
    if (probe.exec !== undefined) return { ...timing, check: { kind: "exec", command: probe.exec } };
    if (probe.log !== undefined) {
      return { ...timing, check: { kind: "log", pattern: probe.log.pattern, ...(probe.log.stream ? { stream: probe.log.stream } : {}) } };
    }
    const grpc = probe.grpc ?? { address: "", service: "" };
    return { ...timing, check: { kind: "grpc", address: grpc.address, service: grpc.service } };
  });

const DEPENDENCY_CONDITIONS = ["started", "ready", "completed", "completed_successfully"] as const;

/** depends_on: {db: ready, migrate: completed_successfully}, or a list of names (condition started). */
const dependsOnSchema = z.preprocess(
  (input) => (Array.isArray(input) && input.every((name) => typeof name === "string") ? Object.fromEntries(input.map((name: string) => [name, "started"])) : input),
  z.record(z.string(), z.enum(DEPENDENCY_CONDITIONS, { error: (issue) => `must be one of ${DEPENDENCY_CONDITIONS.join(", ")}; got ${describeValue(issue.input)}` }), {
    error: (issue) => (issue.code === "invalid_type" ? `expected a mapping of program names to conditions (${DEPENDENCY_CONDITIONS.join(", ")}), got ${describeValue(issue.input)}` : undefined),
  }),
);

export const programSchema = strictObject({
  command: parsedBy(parseCommand),
  /** Relative to the config file's directory; the loader makes it absolute. */
  cwd: z.string().min(1, { error: "must not be empty (leave it out to use the config file's directory)" }).optional(),
  env: stringMap("variable").default({}),
  autostart: z.boolean().default(true),
  autorestart: z.enum(["never", "on-failure", "always"]).default("on-failure"),
  exitcodes: z
    .array(z.int({ error: (issue) => `exit codes are whole numbers from 0 to 255, got ${describeValue(issue.input)}` }).min(0).max(255, { error: "exit codes are from 0 to 255" }))
    .default([0]),
  startsecs: duration("1s"),
  startretries: nonNegativeInt(3),
  stop_signal: parsedBy(parseStopSignal).prefault("SIGTERM"),
  stop_timeout: duration("10s"),
  labels: stringMap("label").default({}),
  description: z.string().default(""),
  stdin: z.boolean().default(false),
  backoff: backoffSchema.prefault({}),
  max_restarts: nonNegativeInt(0),
  restart_window: duration("60s"),
  log: logSchema.prefault({}),
  readiness: probeSchema.optional(),
  liveness: probeSchema.optional(),
  depends_on: dependsOnSchema.default({}),
  /** The host the program runs on (a daemon's host name); another host's program is listed, never started. */
  host: z.string().min(1, { error: "must not be empty (leave it out for this host)" }).optional(),
}).check((ctx) => {
  if (ctx.value.max_restarts > 0 && ctx.value.restart_window === 0) {
    ctx.issues.push({ code: "custom", message: "must be more than 0 when max_restarts is set", input: 0, path: ["restart_window"] });
  }
});

const pemPath = z.string({ error: (issue) => (issue.input === undefined ? "required (a PEM file path, relative to the config file)" : `expected a PEM file path, got ${describeValue(issue.input)}`) })
  .min(1, { error: "must not be empty" });

/** server.tls: PEM paths, relative to the config file's directory. */
const tlsSchema = strictObject({
  cert: pemPath,
  key: pemPath,
  /** CA that client certificates must chain to (mTLS). */
  client_ca: pemPath.optional(),
  /** With client_ca: refuse connections without a valid client certificate (default true); false makes it optional (tokens still work). */
  require_client_cert: z.boolean().optional(),
}).check((ctx) => {
  if (ctx.value.require_client_cert === true && ctx.value.client_ca === undefined) {
    ctx.issues.push({ code: "custom", message: "needs client_ca (the CA client certificates are checked against)", input: true, path: ["require_client_cert"] });
  }
});

export const ROLES = ["viewer", "operator", "admin"] as const;
const role = z.enum(ROLES, { error: (issue) => `must be one of ${ROLES.join(", ")}; got ${describeValue(issue.input)}` });

/** server.auth: who may call over TCP. Token values live in files, never in the config text. */
const authSchema = strictObject({
  tokens: z.array(strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, { error: 'bad token name (1-64 letters, digits, "_", ".", "@" or "-")' }),
    /** File holding the token (one line); relative to the config file's directory. */
    file: z.string().min(1, { error: "must not be empty" }),
    role,
  })).default([]),
  clients: z.array(strictObject({
    /** Client certificate subject, e.g. "CN=alice" or "CN=alice,O=lab": every attribute given must match. */
    subject: z.string().regex(/^\s*[A-Za-z]+\s*=[^,]+(,\s*[A-Za-z]+\s*=[^,]+)*$/, { error: 'bad subject (write attributes like "CN=alice" or "CN=alice,O=lab")' }),
    role,
  })).default([]),
}).check((ctx) => {
  const seen = new Set<string>();
  ctx.value.tokens.forEach((token, index) => {
    if (seen.has(token.name)) ctx.issues.push({ code: "custom", message: "duplicate token name", input: token.name, path: ["tokens", index, "name"] });
    seen.add(token.name);
  });
});

const programName = z.string().regex(PROGRAM_NAME_PATTERN, { error: PROGRAM_NAME_RULE });

const HOST_NAME_PATTERN = PROGRAM_NAME_PATTERN;
const HOST_NAME_RULE = 'bad host name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit)';

/** A daemon's address as clients dial it: "host:port" (any host: TLS is the client's business) or "unix:/path". */
function parseHostAddress(input: unknown): Parsed<string> {
  if (typeof input === "string" && input.startsWith("unix:")) {
    const path = input.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "" || path.includes("\0")) return { ok: false, rule: `bad socket address ${describeValue(input)} (use unix:/path/to/corral.sock)` };
    return { ok: true, value: `unix:${path}` };
  }
  const parsed = parseAddress(input);
  return parsed.ok ? parsed : { ok: false, rule: `bad address ${describeValue(input)} (use host:port, e.g. 10.0.0.2:7070, or unix:/path/to/corral.sock)` };
}

const filePath = z.string().min(1, { error: "must not be empty (a file path, relative to the config file)" });

/** hosts.NAME: where that host's daemon is, and how a client proves itself to it (paths relative to the config). */
const hostSchema = strictObject({
  address: parsedBy(parseHostAddress),
  tls: strictObject({ ca: filePath.optional(), cert: filePath.optional(), key: filePath.optional(), server_name: z.string().min(1).optional() })
    .check((ctx) => {
      if ((ctx.value.cert === undefined) !== (ctx.value.key === undefined)) {
        const missing = ctx.value.cert === undefined ? "cert" : "key";
        ctx.issues.push({ code: "custom", message: "a client certificate needs both cert and key", input: undefined, path: [missing] });
      }
    })
    .optional(),
  token_file: filePath.optional(),
});

export const configSchema = strictObject({
  server: strictObject({
    /** Extra TCP listeners; the Unix socket is always there. */
    listen: z.array(parsedBy(parseAddress)).default([]),
    /** Allows TCP listeners beyond loopback without TLS or auth (logged as a warning at start). */
    insecure: z.boolean().default(false),
    tls: tlsSchema.optional(),
    auth: authSchema.optional(),
    /** JSONL audit of denied and mutating calls; relative to the config file's directory (default: audit.log in the home). */
    audit_log: z.string().min(1, { error: "must not be empty (leave it out for audit.log in the home)" }).optional(),
    allow_adhoc: z.boolean().default(false),
    /**
     * Where run cgroups go (a cgroup v2 path, absolute or relative to its mount) when the daemon's own
     * cgroup is not delegated to it; "off": never use cgroups. Default: a subtree of the daemon's own cgroup.
     */
    cgroup_root: z.string().min(1, { error: "must not be empty (leave it out to use the daemon's own cgroup, or say off)" }).optional(),
    /** This daemon's host name, matched against programs' `host` (default: os.hostname(); --host-name wins). */
    host_name: z.string().min(1, { error: "must not be empty (leave it out to use the machine's host name)" }).optional(),
    logs: strictObject({
      /** All programs' log files together, backups included; over it the oldest go first (0: no cap). */
      max_total: parsedBy((input) => parseByteSize(input, "0 means no total cap")).prefault("1GiB"),
    }).prefault({}),
  }).prefault({}),
  metrics: strictObject({
    listen: parsedBy(parseAddress),
  }).optional(),
  // null: a `programs:` key whose entries are all commented out.
  programs: z
    .record(programName, programSchema)
    .nullable()
    .transform((programs) => programs ?? {})
    .prefault({}),
  tasks: strictObject({
    modules: z.array(z.string().min(1, { error: "must not be empty" })).default([]),
  }).prefault({}),
  /** Every host of a several-host config, in order: start-all goes through them in it, stop-all in reverse. */
  hosts: z
    .record(z.string().regex(HOST_NAME_PATTERN, { error: HOST_NAME_RULE }), hostSchema)
    .nullable()
    .transform((hosts) => hosts ?? {})
    .prefault({}),
}).check((ctx) => {
  // With a hosts map, a program's host must be one of them (or this daemon's configured name):
  // a typo would otherwise make a program silently run nowhere.
  const hostNames = Object.keys(ctx.value.hosts);
  if (hostNames.length > 0) {
    for (const [name, program] of Object.entries(ctx.value.programs)) {
      if (program.host === undefined || program.host in ctx.value.hosts || program.host === ctx.value.server.host_name) continue;
      ctx.issues.push({ code: "custom", message: `unknown host ${describeValue(program.host)} (not a key of hosts: ${hostNames.join(", ")})`, input: program.host, path: ["programs", name, "host"] });
    }
  }
  const server = ctx.value.server;
  const secured = server.tls !== undefined && hasAuthMethods(server.auth);
  if (!server.insecure && !secured) {
    server.listen.forEach((address, index) => {
      if (!isLoopbackAddress(address)) ctx.issues.push({ code: "custom", message: BEYOND_LOOPBACK_RULE, input: address, path: ["server", "listen", index] });
    });
  }
  if (server.auth?.clients.length && server.tls?.client_ca === undefined) {
    ctx.issues.push({ code: "custom", message: "client certificates need server.tls.client_ca to check them against", input: server.auth.clients, path: ["server", "auth", "clients"] });
  }
  // depends_on names programs of the same file, without cycles.
  const graph = new Map(Object.entries(ctx.value.programs).map(([name, p]) => [name, Object.keys(p.depends_on)]));
  for (const problem of dependencyProblems(graph)) {
    const path = problem.dependency === undefined ? ["programs", problem.program, "depends_on"] : ["programs", problem.program, "depends_on", problem.dependency];
    ctx.issues.push({ code: "custom", message: problem.rule, input: problem.dependency, path });
  }
});

/** The config file after validation, keys as written in YAML. */
export type ConfigFile = z.output<typeof configSchema>;
export type ProgramFile = z.output<typeof programSchema>;
export type Role = (typeof ROLES)[number];
