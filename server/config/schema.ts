// The config file's schema, written once: it validates the YAML and normalises its values
// (durations to ms, sizes to bytes, signal names, shell commands to argv). A program's part is
// program-schema.ts (it gives the core's ProgramConfig); the value rules are values.ts.
import { z } from "zod";
import {
  describeValue,
  duration,
  parseAddress,
  parseByteSize,
  parsedBy,
  parseHostAddress,
  positiveInt,
  PROGRAM_NAME_PATTERN,
  PROGRAM_NAME_RULE,
  strictObject,
} from "./values.js";
import { BEYOND_LOOPBACK_RULE, hasAuthMethods, isLoopbackAddress, ROLES } from "../core/access.js";
import { DEFAULT_STREAM_LIMITS } from "../core/limits.js";
import { dependencyProblems } from "../core/process/dependencies.js";
import { programSchema } from "./program-schema.js";

const pemPath = z
  .string({
    error: (issue) =>
      issue.input === undefined ? "required (a PEM file path, relative to the config file)" : `expected a PEM file path, got ${describeValue(issue.input)}`,
  })
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
    ctx.issues.push({
      code: "custom",
      message: "needs client_ca (the CA client certificates are checked against)",
      input: true,
      path: ["require_client_cert"],
    });
  }
});

const role = z.enum(ROLES, { error: (issue) => `must be one of ${ROLES.join(", ")}; got ${describeValue(issue.input)}` });

/** server.auth: who may call over TCP. Token values live in files, never in the config text. */
const authSchema = strictObject({
  tokens: z
    .array(
      strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, { error: 'bad token name (1-64 letters, digits, "_", ".", "@" or "-")' }),
        /** File holding the token (one line); relative to the config file's directory. */
        file: z.string().min(1, { error: "must not be empty" }),
        role,
      }),
    )
    .default([]),
  clients: z
    .array(
      strictObject({
        /** Client certificate subject, e.g. "CN=alice" or "CN=alice,O=lab": every attribute given must match. */
        subject: z
          .string()
          .regex(/^\s*[A-Za-z]+\s*=[^,]+(,\s*[A-Za-z]+\s*=[^,]+)*$/, { error: 'bad subject (write attributes like "CN=alice" or "CN=alice,O=lab")' }),
        role,
      }),
    )
    .default([]),
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
    /**
     * Who may call over TCP. Without it TCP callers are viewers (read-only); "none" makes every
     * TCP caller admin, on purpose (warned about at every start).
     */
    auth: z
      .union([z.literal("none"), authSchema], {
        error: (issue) => (issue.code === "invalid_union" ? `must be a mapping (tokens, clients) or "none"; got ${describeValue(issue.input)}` : undefined),
      })
      .optional(),
    /** JSONL audit of denied and mutating calls; relative to the config file's directory (default: audit.log in the home). */
    audit_log: z.string().min(1, { error: "must not be empty (leave it out for audit.log in the home)" }).optional(),
    allow_adhoc: z.boolean().default(false),
    /** How stop-all (and the daemon's own shutdown) stops a dependency level: all at once, or one by one in reverse order, each gone before the next (QMI's proc_stop). */
    stop_order: z.enum(["parallel", "sequential"]).default("parallel"),
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
    /** Concurrent server streams (FollowLogs, WatchEvents, WatchSignals, WatchStats, RunMonitored, ...); beyond: RESOURCE_EXHAUSTED. */
    streams: strictObject({
      max_per_connection: positiveInt(DEFAULT_STREAM_LIMITS.maxPerConnection),
      max_total: positiveInt(DEFAULT_STREAM_LIMITS.maxTotal),
    }).prefault({}),
  }).prefault({}),
  /** Prometheus /metrics; beyond loopback like server.listen: only with server.tls and server.auth (a scrape needs a viewer's token or certificate). */
  metrics: strictObject({
    listen: parsedBy(parseAddress),
  }).optional(),
  /** The web dashboard (Connect protocol + one page); beyond loopback like server.listen: only with server.tls and server.auth. */
  web: strictObject({
    listen: parsedBy(parseAddress),
  }).optional(),
  /** OpenTelemetry export over OTLP/HTTP: RPC traces (default on), events as logs and program metrics (opt-in). */
  telemetry: strictObject({
    /** The collector's OTLP/HTTP base URL; /v1/traces, /v1/logs and /v1/metrics are appended. */
    otlp_endpoint: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: 'must be an http(s) URL, e.g. "http://127.0.0.1:4318"' }),
    service_name: z.string().min(1, { error: "must not be empty" }).default("corral"),
    traces: z.boolean().default(true),
    logs: z.boolean().default(false),
    metrics: z.boolean().default(false),
    metrics_interval: duration("10s"),
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
      ctx.issues.push({
        code: "custom",
        message: `unknown host ${describeValue(program.host)} (not a key of hosts: ${hostNames.join(", ")})`,
        input: program.host,
        path: ["programs", name, "host"],
      });
    }
  }
  const server = ctx.value.server;
  const auth = server.auth === "none" ? undefined : server.auth;
  const secured = server.tls !== undefined && hasAuthMethods(auth);
  if (!server.insecure && !secured) {
    server.listen.forEach((address, index) => {
      if (!isLoopbackAddress(address)) ctx.issues.push({ code: "custom", message: BEYOND_LOOPBACK_RULE, input: address, path: ["server", "listen", index] });
    });
    for (const key of ["metrics", "web"] as const) {
      const address = ctx.value[key]?.listen;
      if (address !== undefined && !isLoopbackAddress(address))
        ctx.issues.push({ code: "custom", message: BEYOND_LOOPBACK_RULE, input: address, path: [key, "listen"] });
    }
  }
  if (auth?.clients.length && server.tls?.client_ca === undefined) {
    ctx.issues.push({
      code: "custom",
      message: "client certificates need server.tls.client_ca to check them against",
      input: auth.clients,
      path: ["server", "auth", "clients"],
    });
  }
  // depends_on names programs of the same file, without cycles.
  const graph = new Map(Object.entries(ctx.value.programs).map(([name, p]) => [name, Object.keys(p.dependsOn ?? {})]));
  for (const problem of dependencyProblems(graph)) {
    const path =
      problem.dependency === undefined ? ["programs", problem.program, "depends_on"] : ["programs", problem.program, "depends_on", problem.dependency];
    ctx.issues.push({ code: "custom", message: problem.rule, input: problem.dependency, path });
  }
});

/** The config file after validation, keys as written in YAML. */
export type ConfigFile = z.output<typeof configSchema>;
