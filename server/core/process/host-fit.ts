// What a program asks of the host it runs on, checked against what the host offers: `limits`
// need their cgroup controller (os/cgroup.ts), `user`/`uid`/`gid` need a daemon running as root
// and accounts that exist (os/users.ts). A program the host cannot honour is refused (config load,
// ApplyConfig, CreateProgram, `corral check`), never run without what it asked for.
import { ConfigError, type ConfigProblem } from "../config-error.js";
import type { CgroupSupport, LimitController } from "../os/cgroup.js";
import { findSetpriv, resolveCredentials } from "../os/users.js";
import type { ProgramConfig, ResourceLimits } from "./types.js";

/** What this host (and this daemon) can give a program. */
export interface HostCapabilities {
  cgroups: Pick<CgroupSupport, "mode" | "controllers" | "unavailable">;
  /** The daemon's effective uid: switching users needs 0. */
  euid: number;
  /** setpriv(1) on PATH: it sets uid, gid and supplementary groups before the exec (libuv clears the groups). */
  setpriv?: string;
}

/** One thing the host cannot honour: field relative to the program ("limits.memory"), the value, why. */
export interface HostProblem {
  field: string;
  value: unknown;
  rule: string;
}

const LIMIT_FIELDS: { key: keyof ResourceLimits; field: string; controller: LimitController; file: string }[] = [
  { key: "memoryBytes", field: "limits.memory", controller: "memory", file: "memory.max" },
  { key: "cpuCores", field: "limits.cpu", controller: "cpu", file: "cpu.max" },
  { key: "pids", field: "limits.pids", controller: "pids", file: "pids.max" },
];

/** The host as this process sees it (the daemon's, or `corral check`'s). */
export function hostCapabilities(cgroups: HostCapabilities["cgroups"]): HostCapabilities {
  const setpriv = findSetpriv();
  return { cgroups, euid: process.geteuid?.() ?? -1, ...(setpriv ? { setpriv } : {}) };
}

/** Everything of config this host cannot honour (empty: it fits). */
export function hostProblems(config: ProgramConfig, host: HostCapabilities): HostProblem[] {
  const problems: HostProblem[] = [];
  const limits = config.limits;
  for (const { key, field, controller, file } of LIMIT_FIELDS) {
    const value = limits?.[key];
    if (value === undefined) continue;
    if (host.cgroups.mode === "none" || !host.cgroups.controllers.includes(controller)) {
      const why = host.cgroups.unavailable[controller] ?? `the ${controller} controller is not available to run cgroups`;
      const shown = key === "memoryBytes" ? `${value} bytes` : key === "cpuCores" ? `${value} cores` : `${value} processes`;
      problems.push({ field, value, rule: `${shown} cannot be applied on this host (it needs ${file} of the ${controller} cgroup v2 controller): ${why}` });
    }
  }
  const runAs = config.runAs;
  if (runAs) {
    const field = runAs.key ?? "user";
    const resolved = resolveCredentials(runAs);
    if ("problem" in resolved) {
      const problemField = resolved.problem.field === "user" ? field : "gid";
      problems.push({ field: problemField, value: resolved.problem.value || runAs.user, rule: resolved.problem.rule });
    } else {
      const { uid, gid } = resolved.credentials;
      const same = uid === process.geteuid?.() && gid === process.getegid?.();
      if (host.euid !== 0 && !same) {
        problems.push({
          field,
          value: runAs.user,
          rule: `running a program as ${runAs.user} (uid ${uid}) needs a daemon running as root (this one runs as uid ${host.euid})`,
        });
      } else if (!host.setpriv && !same) {
        problems.push({ field, value: runAs.user, rule: `running a program as ${runAs.user} needs setpriv(1) (util-linux) on PATH` });
      }
    }
  }
  return problems;
}

/** Where checked programs come from, for the problems: the file, and a program's field as the caller writes it. */
export interface FitSource {
  file: string;
  /** A program's name and field as the problem's field ("programs.web.limits.memory", "spec.user"). */
  fieldOf: (program: string, field: string) => string;
}

/**
 * Throws a ConfigError naming every program field this host cannot honour. Programs of another
 * host (`host:` not hostName) are skipped: their limits and user are that host's business.
 */
export function assertFitsHost(configs: readonly ProgramConfig[], host: HostCapabilities, hostName: string, source: FitSource): void {
  const problems: ConfigProblem[] = [];
  for (const config of configs) {
    if (config.host !== undefined && config.host !== "" && config.host !== hostName) continue;
    for (const problem of hostProblems(config, host)) {
      problems.push({ file: source.file, field: source.fieldOf(config.name, problem.field), rule: problem.rule, value: problem.value });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
