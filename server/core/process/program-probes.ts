// A program's readiness and liveness probes (readiness.ts runs one): one runner of each per run,
// replaced at each run and stopped when the run leaves STARTING/RUNNING. The readiness verdict is
// kept here; Program derives `ready` from it, run-start.ts decides what a verdict or a failure does.
import type { LogFile } from "./log-file.js";
import { ProbeRunner } from "./readiness.js";
import type { Run } from "./run.js";
import type { ProbeStatus, ProgramConfig } from "./types.js";

type LogOffsets = { stdout: number; stderr: number };

export class ProgramProbes {
  private readiness?: ProbeRunner;
  private liveness?: ProbeRunner;
  /** The readiness probe's last verdict for the current run; undefined: none yet (not ready). */
  private verdict?: boolean;

  constructor(
    private readonly files: { stdout: LogFile; stderr: LogFile },
    private readonly current: () => { config: ProgramConfig; run?: Run },
  ) {}

  get readinessStatus(): ProbeStatus | undefined {
    return this.readiness?.status;
  }

  get livenessStatus(): ProbeStatus | undefined {
    return this.liveness?.status;
  }

  get readinessVerdict(): boolean | undefined {
    return this.verdict;
  }

  private context(startOffsets: LogOffsets) {
    const { config } = this.current();
    return { cwd: config.cwd, env: config.env, stdout: this.files.stdout, stderr: this.files.stderr, startOffsets };
  }

  /**
   * Starts the run's readiness probe (if configured), checking its log lines from startOffsets.
   * onChange(ok, message) is called when the verdict changes; a first "failing" is no change,
   * as a run starts not ready. Verdicts of a replaced runner or another run are dropped.
   */
  startReadiness(run: Run, startOffsets: LogOffsets, onChange: (ok: boolean, message: string) => void): void {
    this.readiness?.stop();
    this.readiness = undefined;
    this.verdict = undefined;
    const config = this.current().config.readiness;
    if (!config) return;
    const runner = new ProbeRunner(config, this.context(startOffsets), (ok, status) => {
      if (this.current().run !== run || this.readiness !== runner) return;
      if (ok === (this.verdict ?? false)) return;
      this.verdict = ok;
      onChange(ok, status.message);
    });
    this.readiness = runner;
    runner.start();
  }

  /** Starts the run's liveness probe (if configured); onFailure(why) when it fails failure_threshold times in a row. */
  startLiveness(run: Run, stillUp: () => boolean, onFailure: (why: string) => void): void {
    this.liveness?.stop();
    this.liveness = undefined;
    const config = this.current().config.liveness;
    if (!config) return;
    const runner = new ProbeRunner(
      config,
      this.context({ stdout: this.files.stdout.endOffsetSync(), stderr: this.files.stderr.endOffsetSync() }),
      (ok, status) => {
        if (ok || this.current().run !== run || this.liveness !== runner || !stillUp()) return;
        runner.stop();
        onFailure(`liveness probe failed ${status.consecutiveFailures} time(s): ${status.message}`);
      },
    );
    this.liveness = runner;
    runner.start();
  }

  stop(): void {
    this.readiness?.stop();
    this.liveness?.stop();
  }
}
