// Reads a YAML config, validates it with the schema and maps it to the core's types; every
// problem comes back at once, each with file, line, column, field and the rule it broke.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { ProgramConfig } from "../core/process/types.js";
import { programConfig } from "./program-schema.js";
import { ConfigError, ruleFor, type ConfigProblem } from "./problems.js";
import type { AuthConfig, TlsServerConfig } from "../core/access.js";
import { configSchema, type ConfigFile } from "./schema.js";
import { duplicateKeyProblems, firstLine, keyOrder, positionOf, problemsFor } from "./yaml-positions.js";

export { ConfigError, formatConfigProblem, type ConfigProblem } from "./problems.js";
/** server.tls and server.auth as the daemon uses them are declared where rpc/ reads them (core/access.ts). */
export type { AuthConfig, TlsServerConfig } from "../core/access.js";

export interface CorralConfig {
  /** Absolute path of the file it was loaded from, if any. */
  path?: string;
  server: ServerConfig;
  metrics?: { listen: string };
  /** The web dashboard's listener (server/web). */
  web?: { listen: string };
  /** OpenTelemetry export (server/telemetry). */
  telemetry?: { endpoint: string; serviceName: string; traces: boolean; logs: boolean; metrics: boolean; metricsIntervalMs: number };
  /** In config order: start-all follows it, stop-all reverses it. */
  programs: ProgramConfig[];
  /** Absolute paths of task-type modules. */
  tasks: { modules: string[] };
  /** The hosts of a several-host config, in config order (empty: one host). */
  hosts: HostConfig[];
}

/** hosts.NAME of the config, with paths made absolute (relative ones are relative to the config file). */
export interface HostConfig {
  name: string;
  /** "host:port" or "unix:/abs/path". */
  address: string;
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  tokenFile?: string;
}

export interface ServerConfig {
  listen: string[];
  allowAdhoc: boolean;
  /** server.stop_order: stop-all's default within a dependency level. */
  stopOrder: "parallel" | "sequential";
  /** server.cgroup_root (see schema.ts); undefined: the daemon's own cgroup. */
  cgroupRoot?: string;
  hostName?: string;
  /** Present (true) only when TCP beyond loopback without TLS/auth was explicitly allowed. */
  insecure?: true;
  tls?: TlsServerConfig;
  auth?: AuthConfig;
  /** server.auth: none: every TCP caller is admin (without server.auth they are viewers). */
  authNone?: true;
  /** Absolute path of the audit log (default: audit.log in the home). */
  auditLog?: string;
  logs: { maxTotalBytes: number };
  /** Caps on concurrent server streams (server/rpc/stream-limit.ts). */
  streams: { maxPerConnection: number; maxTotal: number };
}

export interface ParseConfigOptions {
  /** Name used in problems (usually the path as the user gave it). */
  file: string;
  /** Directory that relative cwd and task module paths are resolved against. */
  baseDir: string;
}

export function parseConfig(text: string, options: ParseConfigOptions): CorralConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, keepSourceTokens: true, lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => positionOf(lineCounter, offset);
  const problems: ConfigProblem[] = [];

  let syntaxBroken = false;
  for (const error of doc.errors) {
    // yaml's position for a duplicate can land on the previous pair's empty value, so
    // duplicates are found again below, from the document itself.
    if (error.code === "DUPLICATE_KEY") continue;
    syntaxBroken = true;
    problems.push({ file: options.file, ...at(error.pos[0]), field: "", rule: firstLine(error.message) });
  }
  const duplicates = duplicateKeyProblems(doc.contents, [], options.file, at);
  problems.push(...duplicates);
  if (duplicates.length === 0 && doc.errors.some((error) => error.code === "DUPLICATE_KEY")) {
    problems.push({ file: options.file, field: "", rule: "duplicate key" });
  }
  // Checking the shape of a half-parsed document would only add noise to the syntax errors.
  if (syntaxBroken) throw configError(problems);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  } catch (error) {
    problems.push({ file: options.file, field: "", rule: error instanceof Error ? firstLine(error.message) : String(error) });
    throw configError(problems);
  }

  const result = configSchema.safeParse(data, { error: ruleFor, reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...problemsFor(issue, data, doc, options.file, at));
  }
  if (problems.length > 0) throw configError(problems);
  if (!result.success) throw new Error("unreachable: zod failed without issues");
  return toCorralConfig(result.data, keyOrder(doc, "programs"), options.baseDir, keyOrder(doc, "hosts"));
}

function configError(problems: ConfigProblem[]): ConfigError {
  const sorted = [...problems].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  return new ConfigError(sorted);
}

export async function loadConfigFile(path: string): Promise<CorralConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const rule =
      code === "ENOENT"
        ? "config file not found"
        : code === "EISDIR"
          ? "is a directory, not a config file"
          : code === "EACCES"
            ? "permission denied reading the config file"
            : `cannot read the config file: ${(error as Error).message}`;
    throw new ConfigError([{ file: path, field: "", rule, value: absolute }]);
  }
  return { ...parseConfig(text, { file: path, baseDir: dirname(absolute) }), path: absolute };
}

function toCorralConfig(file: ConfigFile, order: string[], baseDir: string, hostOrder: string[] = []): CorralConfig {
  return {
    server: toServerConfig(file.server, baseDir),
    ...(file.metrics ? { metrics: { listen: file.metrics.listen } } : {}),
    ...(file.web ? { web: { listen: file.web.listen } } : {}),
    ...(file.telemetry
      ? {
          telemetry: {
            endpoint: file.telemetry.otlp_endpoint,
            serviceName: file.telemetry.service_name,
            traces: file.telemetry.traces,
            logs: file.telemetry.logs,
            metrics: file.telemetry.metrics,
            metricsIntervalMs: file.telemetry.metrics_interval,
          },
        }
      : {}),
    programs: orderedKeys(order, file.programs).map((name) => programConfig(name, file.programs[name], baseDir)),
    tasks: { modules: file.tasks.modules.map((module) => resolve(baseDir, module)) },
    hosts: orderedKeys(hostOrder, file.hosts).map((name) => toHostConfig(name, file.hosts[name], baseDir)),
  };
}

// Object keys that look like integers ("1", "20") come first in JS objects, so the YAML
// document, not the parsed object, says what config order is.
function orderedKeys(order: string[], record: Record<string, unknown>): string[] {
  return [...new Set([...order, ...Object.keys(record)])].filter((name) => name in record);
}

function toHostConfig(name: string, host: ConfigFile["hosts"][string], baseDir: string): HostConfig {
  const address = host.address.startsWith("unix:") ? `unix:${resolve(baseDir, host.address.slice("unix:".length))}` : host.address;
  const tls = host.tls
    ? {
        ...(host.tls.ca !== undefined ? { ca: resolve(baseDir, host.tls.ca) } : {}),
        ...(host.tls.cert !== undefined ? { cert: resolve(baseDir, host.tls.cert) } : {}),
        ...(host.tls.key !== undefined ? { key: resolve(baseDir, host.tls.key) } : {}),
        ...(host.tls.server_name !== undefined ? { serverName: host.tls.server_name } : {}),
      }
    : undefined;
  return { name, address, ...(tls ? { tls } : {}), ...(host.token_file !== undefined ? { tokenFile: resolve(baseDir, host.token_file) } : {}) };
}

function toServerConfig(server: ConfigFile["server"], baseDir: string): ServerConfig {
  const { tls, auth } = server;
  return {
    listen: server.listen,
    allowAdhoc: server.allow_adhoc,
    stopOrder: server.stop_order,
    ...(server.cgroup_root !== undefined ? { cgroupRoot: server.cgroup_root } : {}),
    ...(server.host_name !== undefined ? { hostName: server.host_name } : {}),
    logs: { maxTotalBytes: server.logs.max_total },
    streams: { maxPerConnection: server.streams.max_per_connection, maxTotal: server.streams.max_total },
    ...(server.insecure ? { insecure: true as const } : {}),
    ...(tls
      ? {
          tls: {
            certPath: resolve(baseDir, tls.cert),
            keyPath: resolve(baseDir, tls.key),
            ...(tls.client_ca !== undefined ? { clientCaPath: resolve(baseDir, tls.client_ca) } : {}),
            requireClientCert: tls.require_client_cert ?? tls.client_ca !== undefined,
          },
        }
      : {}),
    ...(auth === "none" ? { authNone: true as const } : {}),
    ...(auth && auth !== "none"
      ? { auth: { tokens: auth.tokens.map((token) => ({ ...token, file: resolve(baseDir, token.file) })), clients: auth.clients } }
      : {}),
    ...(server.audit_log !== undefined ? { auditLog: resolve(baseDir, server.audit_log) } : {}),
  };
}
