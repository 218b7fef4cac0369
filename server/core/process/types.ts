// The process domain's data: the names of a program's configuration parts (program-schema.ts
// describes it), its states, its runs and the snapshots the core hands out. Plain data, no behaviour.

import type { ProgramConfig } from "./program-schema.js";

// A program's configuration is described once, by its schema; these name its parts.
export type { ProgramConfig } from "./program-schema.js";
export type RestartPolicy = ProgramConfig["autorestart"];
export type BackoffConfig = ProgramConfig["backoff"];
export type LogConfig = ProgramConfig["log"];
export type ProbeConfig = NonNullable<ProgramConfig["readiness"]>;
export type ProbeCheck = ProbeConfig["check"];
export type DependencyCondition = NonNullable<ProgramConfig["dependsOn"]>[string];

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
}

export type LogStreamName = "stdout" | "stderr";

export interface LogChunk {
  stream: LogStreamName;
  /** Logical offset: bytes ever written to the stream before this chunk. */
  offset: number;
  data: Buffer;
  time: Date;
}
