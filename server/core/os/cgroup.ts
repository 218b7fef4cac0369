// cgroup v2 containment: what the host offers (detected once at start-up), and one cgroup per run
// under a subtree the daemon owns, so a stop reaches processes that left the run's process group
// (setsid, double fork) and CPU counts processes that already exited.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmdirSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { rmdir } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { errnoOf } from "../resource-errors.js";
import type { ResourceLimits } from "../process/types.js";

/** What the host offers, said in GetServerInfo and `corral info`. */
export interface CgroupSupport {
  /** "own": a subtree of the daemon's own cgroup (delegated, or the root as root); "configured": server.cgroup_root. */
  mode: "own" | "configured" | "none";
  /** Where cgroup2 is mounted ("" when it is not). */
  mount: string;
  /** The daemon's subtree: one run-<id> cgroup per run below it ("" when none). */
  root: string;
  /** Controllers run cgroups can use (enabled in the subtree's cgroup.subtree_control). */
  controllers: string[];
  /** The limit controllers (memory, cpu, pids) run cgroups cannot use, each with why: a program's `limits` needing one is refused. */
  unavailable: Partial<Record<LimitController, string>>;
  /** cgroup.kill exists (Linux 5.14+): every member killed at once, forks racing the kill included. */
  kill: boolean;
  /** One line for people: what is used, or why cgroups are not. */
  description: string;
}

export interface DetectOptions {
  /** server.cgroup_root: a path (absolute, or relative to the cgroup2 mount) the daemon may use; "off": never use cgroups. */
  root?: string;
  /** The daemon home: its subtree is named after it, so two daemons of one host never share one. */
  home: string;
}

/** The controllers `limits` use: memory.max, cpu.max, pids.max. */
export const LIMIT_CONTROLLERS = ["memory", "cpu", "pids"] as const;
export type LimitController = (typeof LIMIT_CONTROLLERS)[number];

const NONE = (mount: string, why: string): CgroupSupport => ({
  mode: "none",
  mount,
  root: "",
  controllers: [],
  unavailable: Object.fromEntries(LIMIT_CONTROLLERS.map((name) => [name, `no cgroups: ${why}`])),
  kill: false,
  description: `no cgroups: ${why}; stops follow process groups and the CORRAL_RUN_ID marker`,
});

/** The first mount point of /proc/self/mountinfo whose fields after " - " (fstype, source, options) pass the test. */
function findMount(test: (fstype: string, options: string[]) => boolean): string | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = right?.split(" ") ?? [];
    if (fields[0] !== undefined && test(fields[0], (fields[2] ?? "").split(","))) return left.split(" ")[4];
  }
  return undefined;
}

/** Where cgroup2 is mounted. */
export function cgroup2Mount(): string | undefined {
  return findMount((fstype) => fstype === "cgroup2");
}

/** The daemon's own cgroup v2 path ("0::/path" in /proc/self/cgroup). */
export function ownCgroup(): string | undefined {
  try {
    const line = readFileSync("/proc/self/cgroup", "utf8")
      .split("\n")
      .find((l) => l.startsWith("0::"));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}

/**
 * Finds what the host offers and makes the daemon's subtree. Never throws: a host without cgroup2,
 * or where the daemon may not create cgroups, gets mode "none" with the reason.
 */
export function detectCgroups(options: DetectOptions): CgroupSupport {
  if (options.root === "off") return NONE("", "server.cgroup_root is off");
  const mount = cgroup2Mount();
  if (!mount) return NONE("", "no cgroup2 file system is mounted");
  const subtree = `corral-${createHash("sha256").update(options.home).digest("hex").slice(0, 12)}`;
  let root: string;
  let mode: CgroupSupport["mode"];
  if (options.root !== undefined && options.root !== "") {
    const base = isAbsolute(options.root) && options.root.startsWith(mount) ? options.root : join(mount, options.root);
    root = join(base, subtree);
    mode = "configured";
  } else {
    const own = ownCgroup();
    if (own === undefined) return NONE(mount, "the daemon's own cgroup v2 is unknown (/proc/self/cgroup has no 0:: line)");
    root = join(mount, own, subtree);
    mode = "own";
  }
  try {
    mkdirSync(root, { recursive: true });
    // Proves the subtree is usable: a child can be made (and removed) there.
    const probe = join(root, `probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
  } catch (error) {
    const where = mode === "configured" ? `server.cgroup_root ${options.root}` : "the daemon's own cgroup (not delegated to it)";
    return NONE(mount, `cannot create cgroups under ${root} (${errnoOf(error) ?? String(error)}): ${where}`);
  }
  const { controllers, unavailable } = enableLimitControllers(mount, root);
  const kill = existsSync(join(root, "cgroup.kill"));
  const missing = Object.keys(unavailable);
  const description =
    `cgroup v2 at ${mount}: each run in its own cgroup under ${root.slice(mount.length) || "/"}` +
    ` (${mode === "configured" ? "server.cgroup_root" : "the daemon's own cgroup"}); ` +
    `${kill ? "cgroup.kill" : "no cgroup.kill: members SIGKILLed one by one"}; ` +
    `controllers: ${controllers.length > 0 ? controllers.join(", ") : "none"}` +
    (missing.length > 0 ? ` (limits need ${missing.join(", ")}: not available, so limits using them are refused)` : "");
  return { mode, mount, root, controllers, unavailable, kill, description };
}

/**
 * What detectCgroups would find for limits, without making or enabling anything (for `corral
 * check`, which must not change the host): the controllers the subtree's parent offers, or
 * already enables, and why the others are missing. It judges by this process's cgroup.
 */
export function probeLimitControllers(options: DetectOptions): Pick<CgroupSupport, "mode" | "controllers" | "unavailable"> {
  const unavailable: Partial<Record<LimitController, string>> = {};
  const none = (why: string) => ({ mode: "none" as const, controllers: [], unavailable: NONE("", why).unavailable });
  if (options.root === "off") return none("server.cgroup_root is off");
  const mount = cgroup2Mount();
  if (!mount) return none("no cgroup2 file system is mounted");
  let parent: string;
  if (options.root !== undefined && options.root !== "") {
    parent = isAbsolute(options.root) && options.root.startsWith(mount) ? options.root : join(mount, options.root);
  } else {
    const own = ownCgroup();
    if (own === undefined) return none("the daemon's own cgroup v2 is unknown");
    parent = join(mount, own);
  }
  const shown = parent.slice(mount.length) || "/";
  const offered = readWords(join(parent, "cgroup.controllers"));
  const enabled = readWords(join(parent, "cgroup.subtree_control"));
  const busy = parent !== mount && readWords(join(parent, "cgroup.procs")).length > 0;
  const controllers: string[] = [];
  for (const name of LIMIT_CONTROLLERS) {
    if (enabled.includes(name) || (offered.includes(name) && !busy)) {
      controllers.push(name);
      continue;
    }
    const v1 = cgroupV1Holder(name);
    unavailable[name] = offered.includes(name)
      ? `the ${name} controller cannot be enabled below ${shown}: it holds processes; set server.cgroup_root to a delegated cgroup with no processes in it`
      : `the ${name} controller is not offered to ${shown} (its cgroup.controllers: ${offered.join(" ") || "none"})` +
        (v1 ? `; ${name} is held by a cgroup v1 hierarchy (${v1}), and a controller is in v1 or v2, never both` : "");
  }
  return { mode: options.root !== undefined && options.root !== "" ? "configured" : "own", controllers, unavailable };
}

/**
 * Makes the limit controllers available to run cgroups: enabled in the parent's
 * cgroup.subtree_control (so the subtree has them), then in the subtree's (so runs have them).
 * The kernel refuses a controller its parent does not offer (ENOENT, EINVAL), and enabling one
 * in a cgroup that holds processes other than the root (EBUSY: "no internal processes"); each
 * refusal is kept with its reason, for the config check to quote.
 */
export function enableLimitControllers(mount: string, root: string): { controllers: string[]; unavailable: Partial<Record<LimitController, string>> } {
  const unavailable: Partial<Record<LimitController, string>> = {};
  const parent = dirname(root);
  const shown = (path: string) => path.slice(mount.length) || "/";
  for (const name of LIMIT_CONTROLLERS) {
    if (!readWords(join(root, "cgroup.controllers")).includes(name)) {
      const offered = readWords(join(parent, "cgroup.controllers"));
      if (!offered.includes(name)) {
        const v1 = cgroupV1Holder(name);
        unavailable[name] =
          `the ${name} controller is not offered to ${shown(parent)} (its cgroup.controllers: ${offered.join(" ") || "none"})` +
          (v1 ? `; ${name} is held by a cgroup v1 hierarchy (${v1}), and a controller is in v1 or v2, never both` : "");
        continue;
      }
      try {
        writeFileSync(join(parent, "cgroup.subtree_control"), `+${name}`);
      } catch (error) {
        const errno = errnoOf(error) ?? String(error);
        unavailable[name] =
          errno === "EBUSY"
            ? `the ${name} controller cannot be enabled below ${shown(parent)}: it holds processes (the daemon's own cgroup?); set server.cgroup_root to a delegated cgroup with no processes in it`
            : `the ${name} controller cannot be enabled below ${shown(parent)} (${errno})`;
        continue;
      }
    }
    try {
      writeFileSync(join(root, "cgroup.subtree_control"), `+${name}`);
    } catch (error) {
      unavailable[name] = `the ${name} controller cannot be enabled in ${shown(root)} (${errnoOf(error) ?? String(error)})`;
    }
  }
  const controllers = readWords(join(root, "cgroup.subtree_control"));
  for (const name of LIMIT_CONTROLLERS)
    if (!controllers.includes(name) && unavailable[name] === undefined) unavailable[name] = `${name} is not enabled in ${shown(root)}`;
  return { controllers, unavailable };
}

/** Where a cgroup v1 hierarchy holds the controller (its mount point), if one does. */
function cgroupV1Holder(controller: string): string | undefined {
  const mount = findMount((fstype, options) => fstype === "cgroup" && options.includes(controller));
  return mount === undefined ? undefined : `mounted at ${mount}`;
}

/** Removes the daemon's subtree if no run cgroup is left in it (at shutdown; runs left for adoption keep it). */
export function removeSubtree(support: CgroupSupport): void {
  if (support.mode === "none") return;
  try {
    rmdirSync(support.root);
  } catch {
    // runs are left in it, or it is gone
  }
}

/** CFS bandwidth period of cpu.max (the kernel's default): cores * period = quota per period. */
export const CPU_PERIOD_USEC = 100_000;

/** The cgroup files and values a program's limits become (the controller of each is the file's prefix). */
export function limitFiles(limits: ResourceLimits | undefined): [string, string][] {
  const files: [string, string][] = [];
  if (!limits) return files;
  if (limits.memoryBytes !== undefined) {
    files.push(["memory.max", String(limits.memoryBytes)]);
    // One process over the limit ends the whole run (systemd's OOMPolicy=kill), not a random member.
    files.push(["memory.oom.group", "1"]);
  }
  if (limits.cpuCores !== undefined) files.push(["cpu.max", `${Math.max(1000, Math.round(limits.cpuCores * CPU_PERIOD_USEC))} ${CPU_PERIOD_USEC}`]);
  if (limits.pids !== undefined) files.push(["pids.max", String(limits.pids)]);
  return files;
}

function readWords(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The cgroup of one run: <root>/run-<runId> (run ids are never reused in a home). */
export class RunCgroup {
  constructor(readonly path: string) {}

  /** The file a process writes its pid into to join (cgroup v2 cgroup.procs). */
  get procsPath(): string {
    return join(this.path, "cgroup.procs");
  }

  static pathFor(support: CgroupSupport, runId: number): string {
    return join(support.root, `run-${runId}`);
  }

  /**
   * Makes the run's cgroup with its limits written before any process enters; throws (with
   * errno, and the file) when the host refuses either: a run is never started without a limit
   * its program asked for.
   */
  static create(support: CgroupSupport, runId: number, limits?: ResourceLimits): RunCgroup {
    const path = RunCgroup.pathFor(support, runId);
    mkdirSync(path, { recursive: true });
    const cgroup = new RunCgroup(path);
    try {
      for (const [file, value] of limitFiles(limits)) cgroup.write(file, value);
    } catch (error) {
      try {
        rmdirSync(path);
      } catch {
        // already gone
      }
      throw error;
    }
    return cgroup;
  }

  private write(file: string, value: string): void {
    try {
      writeFileSync(join(this.path, file), value);
    } catch (error) {
      const wrapped = new Error(`cannot write ${value} to ${join(this.path, file)}: ${error instanceof Error ? error.message : String(error)}`);
      throw Object.assign(wrapped, { code: errnoOf(error) });
    }
  }

  /** A limit file's value ("max" when none), e.g. memory.max; undefined when the file is not there. */
  read(file: string): string | undefined {
    try {
      return readFileSync(join(this.path, file), "latin1").trim();
    } catch {
      return undefined;
    }
  }

  /** Processes of the run the kernel's OOM killer ended (memory.events oom_kill; 0 without the memory controller). */
  oomKills(): number {
    const match = /^oom_kill (\d+)$/m.exec(this.read("memory.events") ?? "");
    return match ? Number(match[1]) : 0;
  }

  /** The run's cgroup if it still exists (an adopted run's, made by a previous daemon). */
  static existing(support: CgroupSupport, runId: number): RunCgroup | undefined {
    if (support.mode === "none") return undefined;
    const path = RunCgroup.pathFor(support, runId);
    return existsSync(path) ? new RunCgroup(path) : undefined;
  }

  /**
   * argv that runs command inside this cgroup: a shell moves itself in (cgroup.procs) and execs
   * the command, so the command and everything it forks are born inside; nothing can fork before
   * the move. The pid stays the same (exec).
   */
  wrap(command: string, args: string[]): { command: string; args: string[] } {
    // (os/spawner.ts's children join by writing procsPath themselves: no shell.)
    return { command: "/bin/sh", args: ["-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.path, command, ...args] };
  }

  /** Live members (the kernel drops a process from cgroup.procs when it exits: zombies are not listed). */
  procs(): number[] {
    try {
      return readFileSync(join(this.path, "cgroup.procs"), "latin1").split("\n").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Sends signal to every member (they may be in other process groups and sessions). */
  signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.procs()) {
      try {
        process.kill(pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  /** SIGKILL to every member at once (cgroup.kill), or one by one where the kernel lacks it. */
  kill(): void {
    try {
      writeFileSync(join(this.path, "cgroup.kill"), "1");
      return;
    } catch {
      this.signalAll("SIGKILL");
    }
  }

  /** CPU used by every process that ever ran in the cgroup, exited ones included (cpu.stat usage_usec). */
  cpuUsageUsec(): number | undefined {
    try {
      const match = /^usage_usec (\d+)$/m.exec(readFileSync(join(this.path, "cpu.stat"), "latin1"));
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Calls onEmpty once the cgroup has no process left (inotify on cgroup.events: no polling). Returns the stop function. */
  watchEmpty(onEmpty: () => void): () => void {
    let watcher: FSWatcher | undefined;
    let done = false;
    const check = () => {
      if (done || this.procs().length > 0) return;
      done = true;
      watcher?.close();
      onEmpty();
    };
    try {
      watcher = watch(join(this.path, "cgroup.events"), check);
      watcher.on("error", () => check());
    } catch {
      // the cgroup is gone already
    }
    check();
    return () => {
      done = true;
      watcher?.close();
    };
  }

  /** Whether any process (a zombie not yet reaped too) still holds the cgroup (cgroup.events). */
  populated(): boolean {
    try {
      return /^populated 1$/m.test(readFileSync(join(this.path, "cgroup.events"), "latin1"));
    } catch {
      return false;
    }
  }

  /**
   * Removes the cgroup once it is empty; settles when it is removed, or when it is found still
   * populated (then it goes later). A cgroup is removable only once no zombie holds it: killed
   * grandchildren of a slow-reaping init keep it populated a while, so the removal then waits for
   * cgroup.events to say "populated 0" (one unref'd watcher, gone with the cgroup). rmdir itself
   * says whether it is populated (EBUSY), so an empty one costs one rmdir and no read; it runs in
   * the threadpool (on cgroupfs it takes the kernel's cgroup lock: a stop-all of 500 spent a
   * quarter of its time in it on the event loop). The daemon's subtree stays: its
   * cgroup.subtree_control was set up by detectCgroups, which a subtree made again by the next
   * run would lack; shutdown removes it (removeSubtree).
   */
  async removeWhenEmpty(): Promise<void> {
    const remove = async (): Promise<boolean> => {
      try {
        await rmdir(this.path);
        return true;
      } catch (error) {
        return errnoOf(error) !== "EBUSY"; // gone already, or not ours to remove: nothing to wait for
      }
    };
    if (await remove()) return;
    let watcher: FSWatcher | undefined;
    const check = () => {
      if (this.populated()) return;
      watcher?.close();
      void remove();
    };
    try {
      watcher = watch(join(this.path, "cgroup.events"), check);
      watcher.on("error", () => watcher?.close());
      watcher.unref();
    } catch {
      return;
    }
    check();
  }
}
