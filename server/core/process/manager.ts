// ProcessManager: the set of programs of one daemon and the operations on them (start, stop,
// signal, bulk operations, logs, events). No gRPC here: the rpc layer calls these methods.
import { EventJournal, type WatchItem, type WatchOptions } from "../store/journal.js";
import type { LogChunk, LogStreamName, ProcessSnapshot, ProgramConfig, ProgramResult, Selector, StartWait, StopWait } from "./types.js";

export interface ProcessManagerOptions {
  /** Daemon home: logs go to <home>/logs, state to <home>/state. */
  home: string;
  programs: ProgramConfig[];
  journal?: EventJournal;
}

export interface StartOptions {
  wait?: StartWait; // default "running"
  timeoutMs?: number; // default 60_000; TimeoutError when the wait expires (the start goes on)
  signal?: AbortSignal;
}

export interface StopOptions {
  wait?: StopWait; // default "stopped"
  timeoutMs?: number; // default stopTimeoutMs + 10_000
  signal?: AbortSignal;
}

export interface StopResult {
  process: ProcessSnapshot;
  /** Pids of the group still alive after SIGKILL (should be empty). */
  survivors: number[];
}

export interface ReadLogsOptions {
  stream: LogStreamName;
  offset?: number;
  maxBytes?: number; // default and cap 1 MiB
  tailLines?: number;
}

export interface ReadLogsResult {
  chunk: LogChunk;
  firstOffset: number;
  endOffset: number;
}

export interface FollowLogsOptions {
  /** Both streams when omitted. */
  stream?: LogStreamName;
  tailLines?: number;
  offset?: number;
  signal?: AbortSignal;
}

export declare class ProcessManagerApi {
  constructor(options: ProcessManagerOptions);
  readonly journal: EventJournal;
  /** Starts autostart programs (config order); resolves when each is RUNNING or failed. */
  init(): Promise<void>;
  list(selector?: Selector): ProcessSnapshot[];
  get(name: string): ProcessSnapshot;
  start(name: string, options?: StartOptions): Promise<ProcessSnapshot>;
  stop(name: string, options?: StopOptions): Promise<StopResult>;
  restart(name: string, options?: StartOptions): Promise<ProcessSnapshot>;
  signal(name: string, signal: string, options?: { group?: boolean }): ProcessSnapshot;
  startAll(selector?: Selector, options?: StartOptions): Promise<ProgramResult[]>;
  stopAll(selector?: Selector, options?: StopOptions): Promise<ProgramResult[]>;
  readLogs(name: string, options: ReadLogsOptions): Promise<ReadLogsResult>;
  followLogs(name: string, options?: FollowLogsOptions): AsyncGenerator<LogChunk>;
  watchEvents(options?: WatchOptions): AsyncGenerator<WatchItem>;
  /** Stops every program (two-stage, reverse order) and releases timers and watchers. */
  shutdown(): Promise<void>;
}
