// Reads a YAML config, validates it with the schema and maps it to the core's types; every
// problem comes back at once, each with file, line, column, field and the rule it broke.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { type Document, LineCounter, type Node as YamlNode, isAlias, isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { ProgramConfig } from "../core/process/types.js";
import { configSchema, describeValue, type ConfigFile, type ProgramFile, type Role } from "./schema.js";

export interface CorralConfig {
  /** Absolute path of the file it was loaded from, if any. */
  path?: string;
  server: ServerConfig;
  metrics?: { listen: string };
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
  /** server.cgroup_root (see schema.ts); undefined: the daemon's own cgroup. */
  cgroupRoot?: string;
  hostName?: string;
  /** Present (true) only when TCP beyond loopback without TLS/auth was explicitly allowed. */
  insecure?: true;
  tls?: TlsServerConfig;
  auth?: AuthConfig;
  /** Absolute path of the audit log (default: audit.log in the home). */
  auditLog?: string;
  logs: { maxTotalBytes: number };
}

/** server.tls with absolute paths. */
export interface TlsServerConfig {
  certPath: string;
  keyPath: string;
  clientCaPath?: string;
  /** Only meaningful with clientCaPath. */
  requireClientCert: boolean;
}

export interface AuthConfig {
  /** Token files (absolute paths); the values are read by the daemon, never kept in the config. */
  tokens: { name: string; file: string; role: Role }[];
  clients: { subject: string; role: Role }[];
}

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the key, e.g. "programs.db.startsecs"; "" for YAML syntax errors. */
  field: string;
  rule: string;
  value?: unknown;
}

export function formatConfigProblem(problem: ConfigProblem): string {
  const position = problem.line === undefined ? "" : `:${problem.line}:${problem.column ?? 1}`;
  const field = problem.field === "" ? "" : `${problem.field}: `;
  return `${problem.file}${position}: ${field}${problem.rule}`;
}

/** A config that cannot be used; `problems` lists all of them, the message one per line. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatConfigProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ParseConfigOptions {
  /** Name used in problems (usually the path as the user gave it). */
  file: string;
  /** Directory that relative cwd and task module paths are resolved against. */
  baseDir: string;
}

type PathSegment = PropertyKey;

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
      code === "ENOENT" ? "config file not found" :
      code === "EISDIR" ? "is a directory, not a config file" :
      code === "EACCES" ? "permission denied reading the config file" :
      `cannot read the config file: ${(error as Error).message}`;
    throw new ConfigError([{ file: path, field: "", rule, value: absolute }]);
  }
  return { ...parseConfig(text, { file: path, baseDir: dirname(absolute) }), path: absolute };
}

function toCorralConfig(file: ConfigFile, order: string[], baseDir: string, hostOrder: string[] = []): CorralConfig {
  return {
    server: toServerConfig(file.server, baseDir),
    ...(file.metrics ? { metrics: { listen: file.metrics.listen } } : {}),
    programs: orderedKeys(order, file.programs).map((name) => toProgramConfig(name, file.programs[name], baseDir)),
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
    ...(server.cgroup_root !== undefined ? { cgroupRoot: server.cgroup_root } : {}),
    ...(server.host_name !== undefined ? { hostName: server.host_name } : {}),
    logs: { maxTotalBytes: server.logs.max_total },
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
    ...(auth ? { auth: { tokens: auth.tokens.map((token) => ({ ...token, file: resolve(baseDir, token.file) })), clients: auth.clients } } : {}),
    ...(server.audit_log !== undefined ? { auditLog: resolve(baseDir, server.audit_log) } : {}),
  };
}

export function toProgramConfig(name: string, program: ProgramFile, baseDir: string): ProgramConfig {
  return {
    name,
    command: program.command,
    cwd: resolve(baseDir, program.cwd ?? "."),
    env: program.env,
    autostart: program.autostart,
    autorestart: program.autorestart,
    exitcodes: program.exitcodes,
    startsecsMs: program.startsecs,
    startretries: program.startretries,
    stopSignal: program.stop_signal,
    stopTimeoutMs: program.stop_timeout,
    labels: program.labels,
    backoff: {
      initialMs: program.backoff.initial,
      maxMs: program.backoff.max,
      multiplier: program.backoff.multiplier,
      resetAfterMs: program.backoff.reset_after,
    },
    log: { maxBytes: program.log.max_bytes, backups: program.log.backups },
    maxRestarts: program.max_restarts,
    restartWindowMs: program.restart_window,
    stdin: program.stdin,
    description: program.description,
    ...(program.readiness ? { readiness: program.readiness } : {}),
    ...(program.liveness ? { liveness: program.liveness } : {}),
    ...(Object.keys(program.depends_on).length > 0 ? { dependsOn: program.depends_on } : {}),
    ...(program.host !== undefined ? { host: program.host } : {}),
  };
}

/** Rule text for zod's own checks, in the same voice as the schema's custom rules. */
export function ruleFor(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      return `expected ${expectedName(issue.expected)}, got ${describeValue(issue.input)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => String(value)).join(", ")}; got ${describeValue(issue.input)}`;
    case "too_small":
      if (issue.origin === "array") return `must have at least ${issue.minimum} item(s)`;
      if (issue.origin === "string") return "must not be empty";
      return `must be >= ${issue.minimum}`;
    case "too_big":
      return `must be <= ${issue.maximum}`;
    case "invalid_key":
      return issue.issues[0]?.message;
    default:
      return undefined;
  }
}

function expectedName(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    record: "a mapping",
    array: "a list",
  };
  return names[expected] ?? expected;
}

type Position = { line?: number; column?: number };

function positionOf(lineCounter: LineCounter, offset: number | undefined): Position {
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function problemsFor(issue: z.core.$ZodIssue, data: unknown, doc: Document, file: string, at: (offset: number | undefined) => Position): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return { file, ...at(offsetOf(doc, path, true)), field: fieldName(path), rule: issue.message, value: valueAt(data, path) };
    });
  }
  // Bad program names point at the name itself, not at the program's body.
  const atKey = issue.code === "invalid_key";
  return [{ file, ...at(offsetOf(doc, issue.path, atKey)), field: fieldName(issue.path), rule: issue.message, value: issue.input }];
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function fieldName(path: readonly PathSegment[]): string {
  let name = "";
  for (const segment of path) {
    if (typeof segment === "number") name += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(segment))) name += name === "" ? String(segment) : `.${String(segment)}`;
    else name += `[${JSON.stringify(String(segment))}]`;
  }
  return name;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Source offset of the node at `path`; when it does not exist (a missing key), the key of the
 * nearest existing parent, which is where the user has to add it.
 */
function offsetOf(doc: Document, path: readonly PathSegment[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let fallback = startOf(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isMap(node)) {
      // The last of duplicate keys is the one whose value was validated.
      const pair = node.items.findLast((item) => keyText(item.key) === String(segment));
      if (!pair) return fallback;
      const keyStart = startOf(pair.key) ?? fallback;
      if (atKey && i === path.length - 1) return keyStart;
      node = pair.value;
      fallback = keyStart;
      // An empty value (`db:`) has no text of its own; its key is what the user sees.
      if (node === null || (isScalar(node) && node.value === null)) return fallback;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      node = node.items[segment];
      fallback = startOf(node) ?? fallback;
    } else {
      return fallback;
    }
    if (isAlias(node)) return startOf(node) ?? fallback;
  }
  return startOf(node) ?? fallback;
}

function startOf(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as YamlNode).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}

/** Every key that repeats an earlier key of the same map (toJS keeps only the last one). */
function duplicateKeyProblems(node: unknown, path: PathSegment[], file: string, at: (offset: number | undefined) => Position): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (isMap(node)) {
    const firstByName = new Map<string, number | undefined>();
    for (const pair of node.items) {
      const name = keyText(pair.key);
      const keyPath = [...path, name];
      if (firstByName.has(name)) {
        const kind = keyPath.length === 2 && keyPath[0] === "programs" ? "duplicate program name" : "duplicate key";
        const rule = `${kind} (first defined on line ${at(firstByName.get(name)).line ?? "?"})`;
        problems.push({ file, ...at(startOf(pair.key)), field: fieldName(keyPath), rule, value: name });
      } else {
        firstByName.set(name, startOf(pair.key));
      }
      problems.push(...duplicateKeyProblems(pair.value, keyPath, file, at));
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) problems.push(...duplicateKeyProblems(item, [...path, index], file, at));
  }
  return problems;
}

function keyOrder(doc: Document, section: string): string[] {
  const map = doc.get(section, true);
  return isMap(map) ? map.items.map((pair) => keyText(pair.key)) : [];
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}
