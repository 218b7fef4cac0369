// The diff between the running set of programs and a new config (ApplyConfig / ReloadConfig):
// which programs are added, changed (and which of those need a new run) and removed. Pure.
import type { ProgramConfig } from "./types.js";

/**
 * What a change of each field needs. "restart": the value is only read when a run is spawned
 * (argv, cwd, environment, the stdin pipe) or shapes the run's own probes (readiness decides
 * STARTING -> RUNNING of the run, liveness is armed when it gets RUNNING), so an up program
 * gets a new run. "live": the program takes the new value without a restart: at once
 * (labels, description, log retention) or the next time it is read (restart policy and
 * backoff at the next exit, stop_signal/stop_timeout at the next stop, startsecs, startretries
 * and depends_on at the next start, autostart at the next daemon start).
 * Keyed by every field of ProgramConfig, so a new field does not compile until it is classified.
 */
const FIELDS: Record<Exclude<keyof ProgramConfig, "name">, { key: string; effect: "restart" | "live" }> = {
  command: { key: "command", effect: "restart" },
  cwd: { key: "cwd", effect: "restart" },
  env: { key: "env", effect: "restart" },
  stdin: { key: "stdin", effect: "restart" },
  readiness: { key: "readiness", effect: "restart" },
  liveness: { key: "liveness", effect: "restart" },
  // A run belongs to the host it was started on: moved away it must stop here (and not start).
  host: { key: "host", effect: "restart" },
  // Written into the run's cgroup, and the credentials of the run's processes: both set at the spawn.
  limits: { key: "limits", effect: "restart" },
  runAs: { key: "user", effect: "restart" },
  // Read by the sampler at its next pass.
  maxMemoryBytes: { key: "max_memory", effect: "live" },
  // Each custom stream is an fd the child gets at its spawn.
  customStreams: { key: "custom_streams", effect: "restart" },
  // Labels name the files' streams in what is read and followed from now on.
  redirectOutput: { key: "redirect_output", effect: "live" },
  // Read at the daemon's shutdown.
  detach: { key: "detach", effect: "live" },
  autostart: { key: "autostart", effect: "live" },
  autorestart: { key: "autorestart", effect: "live" },
  exitcodes: { key: "exitcodes", effect: "live" },
  startsecsMs: { key: "startsecs", effect: "live" },
  startretries: { key: "startretries", effect: "live" },
  stopSignal: { key: "stop_signal", effect: "live" },
  stopTimeoutMs: { key: "stop_timeout", effect: "live" },
  labels: { key: "labels", effect: "live" },
  backoff: { key: "backoff", effect: "live" },
  log: { key: "log", effect: "live" },
  maxRestarts: { key: "max_restarts", effect: "live" },
  restartWindowMs: { key: "restart_window", effect: "live" },
  description: { key: "description", effect: "live" },
  dependsOn: { key: "depends_on", effect: "live" },
};

export interface ProgramChange {
  name: string;
  before: ProgramConfig;
  after: ProgramConfig;
  /** Changed fields, as config keys ("env", "stop_timeout"), in a fixed order. */
  fields: string[];
  /** Some changed field is a "restart" field: an up program needs a new run to take it. */
  needsRestart: boolean;
}

export interface ProgramsDiff {
  /** In the new config's order. */
  added: ProgramConfig[];
  changed: ProgramChange[];
  /** In the current order. */
  removed: ProgramConfig[];
  unchanged: string[];
}

/** Compares by name: a renamed program is one removed and one added. */
export function diffPrograms(current: readonly ProgramConfig[], next: readonly ProgramConfig[]): ProgramsDiff {
  const before = new Map(current.map((config) => [config.name, config]));
  const nextNames = new Set(next.map((config) => config.name));
  const diff: ProgramsDiff = { added: [], changed: [], removed: current.filter((config) => !nextNames.has(config.name)), unchanged: [] };
  for (const after of next) {
    const old = before.get(after.name);
    if (old === undefined) {
      diff.added.push(after);
      continue;
    }
    const changedFields = changedFieldsOf(old, after);
    if (changedFields.length === 0) diff.unchanged.push(after.name);
    else {
      diff.changed.push({
        name: after.name,
        before: old,
        after,
        fields: changedFields.map((field) => FIELDS[field].key),
        needsRestart: changedFields.some((field) => FIELDS[field].effect === "restart"),
      });
    }
  }
  return diff;
}

function changedFieldsOf(a: ProgramConfig, b: ProgramConfig): (keyof typeof FIELDS)[] {
  // No depends_on and an empty one are the same config (likewise lists left empty, and detach: false).
  const value = (config: ProgramConfig, field: keyof typeof FIELDS) => {
    if (field === "dependsOn" && Object.keys(config.dependsOn ?? {}).length === 0) return undefined;
    if ((field === "redirectOutput" || field === "customStreams") && (config[field]?.length ?? 0) === 0) return undefined;
    if (field === "detach" && config.detach !== true) return undefined;
    return config[field];
  };
  return (Object.keys(FIELDS) as (keyof typeof FIELDS)[]).filter((field) => !sameValue(value(a, field), value(b, field)));
}

/** Structural equality of config values (plain data: records compare without regard to key order). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  // An absent optional field and an explicit undefined are the same config.
  const keys = new Set([...Object.keys(recordA), ...Object.keys(recordB)].filter((key) => recordA[key] !== undefined || recordB[key] !== undefined));
  return [...keys].every((key) => sameValue(recordA[key], recordB[key]));
}
