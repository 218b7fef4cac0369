// The process domain's data: a program's validated configuration (the config schema,
// server/config/program-schema.ts, produces exactly this), its states, its runs and the snapshots
// the core hands out. Plain data, no behaviour.
import type { EventJournal } from "./journal.js";
import type { LiveConfigPolicy } from "./live-config.js";

export type RestartPolicy = "never" | "on-failure" | "always";

export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Uptime after which backoff and retry counters start over. */
  resetAfterMs: number;
}

export interface LogConfig {
  /** Rotate a stream's log file when it grows past this size (0: never rotate). */
  maxBytes: number;
  /** Rotated files kept per stream. */
  backups: number;
}

/** A program's configuration after validation; every field has its final value. */
export interface ProgramConfig {
  name: string;
  /** argv: command[0] is the executable (looked up on PATH when it has no slash). */
  command: string[];
  /** Absolute working directory. */
  cwd: string;
  /** Added to the daemon's environment. */
  env: Record<string, string>;
  autostart: boolean;
  autorestart: RestartPolicy;
  /** Exit codes that count as success (for on-failure and for EXITED being expected). */
  exitcodes: number[];
  /** Time a run must stay up to count as started (STARTING -> RUNNING). */
  startsecsMs: number;
  /** Failed start attempts retried before FATAL. */
  startretries: number;
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
  labels: Record<string, string>;
  backoff: BackoffConfig;
  log: LogConfig;
  /** Automatic restarts allowed within restartWindowMs before FATAL (0: unlimited). */
  maxRestarts: number;
  restartWindowMs: number;
  stdin: boolean;
  description: string;
  /** Decides `ready`; when set, STARTING -> RUNNING happens when it first passes. */
  readiness?: ProbeConfig;
  /** Failing it failureThreshold times in a row kills the run (restart policy applies). */
  liveness?: ProbeConfig;
  /** Programs this one needs, and the condition each must meet before it starts. */
  dependsOn?: Record<string, DependencyCondition>;
  /** The host the program runs on; absent: this daemon's host. Another host: listed, never started here. */
  host?: string;
  /** gaffer's redirect_output: the names of stdout, then stderr, in logs (absent or short: "stdout", "stderr"). */
  redirectOutput?: string[];
  /** gaffer's custom_streams: one more output fd of the child per name (3, 4, ...: see stream-names.ts), logged like stdout. */
  customStreams?: string[];
  /** gaffer's detach: the daemon's shutdown leaves the run running, for the next daemon to adopt. */
  detach?: boolean;
  /** Limits written into each run's cgroup before it starts (memory.max, cpu.max, pids.max); refused where the host lacks the controller (host-fit.ts). */
  limits?: ResourceLimits;
  /** PM2's max_memory_restart: the run is restarted when its tree's RSS, as the sampler measures it, passes this. */
  maxMemoryBytes?: number;
  /** Run as this user and group (names or ids, as written; resolved at each spawn by os/users.ts). The daemon must be root. */
  runAs?: RunAs;
}

export interface ResourceLimits {
  /** memory.max: the kernel's OOM killer ends the run above it (swap is not limited). */
  memoryBytes?: number;
  /** cpu.max: this many cores' worth of CPU time per period (1.5: 150 ms per 100 ms). */
  cpuCores?: number;
  /** pids.max: processes and threads of the run together. */
  pids?: number;
}

export interface RunAs {
  /** A user name or a numeric uid. */
  user: string;
  /** A group name or numeric gid; absent: the user's primary group (/etc/passwd). */
  group?: string;
  /** The config key the user was given as (gaffer's "uid"), for problems to name; absent: "user". */
  key?: "uid";
}

export type DependencyCondition = "started" | "ready" | "completed" | "completed_successfully";

export type ProbeCheck =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "exec"; command: string[] }
  /** Passes once a line matches, for the rest of the run. No stream: stdout and stderr. */
  | { kind: "log"; pattern: string; stream?: StdStreamName }
  | { kind: "grpc"; address: string; service: string };

export interface ProbeConfig {
  check: ProbeCheck;
  periodMs: number;
  timeoutMs: number;
  initialDelayMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** Readiness only: a run not ready this long after its spawn is a failed start (start_timeout, default 60 s). */
  startTimeoutMs: number;
}

export interface ProbeStatus {
  ok: boolean;
  message: string;
  time: Date;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export const PROCESS_STATES = ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];

export interface RunSnapshot {
  runId: number;
  pid: number;
  /** /proc/PID/stat start time in clock ticks: with pid, the identity of the process. */
  pidStartTicks: number;
  startedAt: Date;
  exitedAt?: Date;
  exitCode?: number;
  exitSignal?: string;
  spawnError?: string;
  /** The run's cgroup v2 directory, where the host offers them (os/cgroup.ts). */
  cgroupPath?: string;
}

export interface ProcessSnapshot {
  name: string;
  state: ProcessState;
  stateReason: string;
  stateSince: Date;
  run?: RunSnapshot;
  restarts: number;
  startAttempts: number;
  config: ProgramConfig;
  ready: boolean;
  adhoc: boolean;
  /** The program's host, or this daemon's host name when the config names none. */
  host: string;
  /** It runs on another host: this daemon lists it but never starts, stops or signals it. */
  remote: boolean;
  nextRetryAt?: Date;
  uptimeMs?: number;
  readinessProbe?: ProbeStatus;
  livenessProbe?: ProbeStatus;
}

export type StartWait = "none" | "running" | "ready";
export type StopWait = "none" | "stopped";

/** Selects programs: all labels must match; names (if any) restrict further. */
export interface Selector {
  matchLabels?: Record<string, string>;
  names?: string[];
}

export interface ProgramResult {
  name: string;
  ok: boolean;
  error?: Error;
  process: ProcessSnapshot;
  /** Why an ok result did nothing (e.g. "remote: runs on host lab2"). */
  note?: string;
  /** A stop's outcome (stop-all only). */
  shutdown?: ShutdownResult;
}

/**
 * How a stop went (QMI's ShutdownResult): "soft" the group left after the stop signal, "hard"
 * it needed SIGKILL, "survivors" some members outlived SIGKILL, "not_running" there was nothing
 * to stop (a pending retry may have been cancelled), "pending" the caller did not wait.
 */
export type ShutdownHow = "soft" | "hard" | "survivors" | "not_running" | "pending";

export interface ShutdownResult {
  /** The program had a live run when the stop came. */
  wasRunning: boolean;
  /** That run's pid (0 when not running). */
  pid: number;
  how: ShutdownHow;
  /** Pids of the group alive after SIGKILL (how = "survivors"). */
  survivors: number[];
}

/** The child's fds 1 and 2. */
export type StdStreamName = "stdout" | "stderr";

/** A program's output stream as the core keys it: "stdout", "stderr" or one of its custom_streams. */
export type LogStreamName = string;

export interface LogChunk {
  stream: LogStreamName;
  /** The stream's name for users: its redirect_output label, else the stream itself. */
  label: string;
  /** Logical offset: bytes ever written to the stream before this chunk. */
  offset: number;
  data: Buffer;
  time: Date;
  /** Ranges dropped between the offset asked for (or the follower's last position) and this chunk. */
  gaps?: LogGap[];
}

/** Why a range of a stream's offsets is no longer kept. */
export type LogGapReason = "backups" | "max_total" | "disk_full";

/** A range of logical offsets whose bytes were dropped (never silently: each is reported as one of these). */
export interface LogGap {
  stream: LogStreamName;
  /** As LogChunk.label. */
  label: string;
  fromOffset: number;
  toOffset: number;
  reason: LogGapReason;
}

/** A single program's stop: its snapshot after it, and how it went. */
export interface StopResult {
  process: ProcessSnapshot;
  /** Pids of the group still alive after SIGKILL (should be empty). */
  survivors: number[];
  /** How the stop went: was it running, its pid, soft / hard / survivors / not_running / pending. */
  shutdown: ShutdownResult;
}

/** What a daemon gives its process core (manager.ts). */
export interface ProcessManagerOptions {
  /** Daemon home: logs go to <home>/logs, state to <home>/state. */
  home: string;
  programs: ProgramConfig[];
  journal?: EventJournal;
  /** This daemon's host name (default os.hostname()): programs with another `host` are remote. */
  hostName?: string;
  /** Cap on all programs' log files together, backups included (default 1 GiB; 0: none). */
  logMaxTotalBytes?: number;
  /** server.stop_order: stop-all's default (and the shutdown's) within a dependency level; default parallel. */
  stopOrder?: "parallel" | "sequential";
  /** server.cgroup_root: where run cgroups go when the daemon's own cgroup is not usable; "off": no cgroups. */
  cgroupRoot?: string;
  /** ApplyConfig / ReloadConfig / ad-hoc programs: the daemon's config file, allow_adhoc, the YAML reader. */
  liveConfig?: LiveConfigPolicy;
}
