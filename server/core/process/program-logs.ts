// A program's log files together: stdout, stderr and one per custom stream (stream-names.ts),
// each a LogFile the child writes itself. They are made, labelled, watched while a run writes,
// rotated after it ends and released as one, so a custom stream is logged exactly like stdout.
import { closeSync, openSync } from "node:fs";
import { resourceError } from "../resource-errors.js";
import { LogFile } from "./log-file.js";
import { resolveStreamName, streamLabel } from "./stream-names.js";
import type { LogStreamName, ProgramConfig } from "./types.js";

export interface ProgramLogsHooks {
  /** Told when a file may have grown (the total cap, log-budget.ts). */
  onGrow?: (file: LogFile) => void;
  /** What a rotation step waits for while the total cap drops (LogBudget.hold). */
  rotationHold?: () => Promise<void> | undefined;
  /** Trouble with a file (rotation failing...), for the journal. */
  onProblem: (message: string) => void;
}

export class ProgramLogs {
  readonly stdout: LogFile;
  readonly stderr: LogFile;
  /**
   * Custom streams by name. One the config no longer has stays here (its last run may still be
   * writing it until the restart a removal needs), so it is still rotated and counted by the
   * total cap; only the config's streams can be read by name.
   */
  private readonly custom = new Map<string, LogFile>();
  private config: ProgramConfig;

  constructor(
    private readonly dir: string,
    config: ProgramConfig,
    private readonly hooks: ProgramLogsHooks,
  ) {
    this.config = config;
    this.stdout = this.make("stdout");
    this.stderr = this.make("stderr");
    for (const name of config.customStreams ?? []) this.custom.set(name, this.make(name));
  }

  private make(stream: LogStreamName): LogFile {
    const file = new LogFile(this.dir, this.config.name, stream, this.config.log, streamLabel(this.config, stream));
    file.onGrow = this.hooks.onGrow;
    file.rotationHold = this.hooks.rotationHold;
    file.onProblem = this.hooks.onProblem;
    // The file exists from the start, so readers and followers can open it at once.
    try {
      closeSync(openSync(file.path, "a", 0o640));
    } catch (error) {
      throw resourceError(error, `program ${this.config.name}: creating the log file`, file.path) ?? error;
    }
    return file;
  }

  /** Every file: stdout, stderr, then the custom streams. */
  all(): LogFile[] {
    return [this.stdout, this.stderr, ...this.custom.values()];
  }

  /** The custom streams the config names, in its order (the child's fds 3, 4, ...). */
  customFiles(): LogFile[] {
    return (this.config.customStreams ?? []).map((name) => this.file(name));
  }

  /** A stream's file: "stdout", "stderr" or a custom stream of the config. */
  file(stream: LogStreamName): LogFile {
    if (stream === "stdout") return this.stdout;
    if (stream === "stderr") return this.stderr;
    const file = this.custom.get(stream);
    // Streams come from resolveStreamName, which knows only the config's: this is a bug if it fails.
    if (!file || !(this.config.customStreams ?? []).includes(stream)) return this.file(resolveStreamName(this.config, stream, "stream"));
    return file;
  }

  /** A changed config: retention and labels at once; a new custom stream gets its file (its fd comes with the next run). */
  reconfigure(config: ProgramConfig): void {
    this.config = config;
    for (const name of config.customStreams ?? []) if (!this.custom.has(name)) this.custom.set(name, this.make(name));
    for (const file of this.all()) {
      file.setConfig(config.log);
      file.label = streamLabel(config, file.stream);
    }
  }

  /** While a run writes: keep watching, and watch now when rotation or the total cap needs to see growth. */
  watchWhileRunning(watchNow: boolean): void {
    for (const file of this.all()) {
      file.keepWatching = true;
      if (watchNow) file.startWatching();
    }
  }

  /** After a run ended: stop the watching it needed, and rotate what it left. */
  runEnded(): void {
    for (const file of this.all()) {
      file.keepWatching = false;
      void file.rotateIfDue();
    }
  }

  startWatching(): void {
    for (const file of this.all()) file.startWatching();
  }

  stopWatching(): void {
    for (const file of this.all()) file.stopWatching();
  }
}
