// What follows a run's end: the exit published (expected or not, with its stderr tail), the
// orphans left in its group stopped, and the restart policy's decision (restart-policy.ts, pure)
// applied: EXITED, FATAL, or BACKOFF / EXITED with a retry timer that starts the program again.
import { decideAfterExit, decideAfterFailedStart, isExpectedExit, NO_RESTARTS, type RestartHistory } from "./restart-policy.js";
import { groupExists } from "../os/proc.js";
import type { ProgramCore } from "./program-core.js";
import { describeExit, type Run } from "./run.js";
import { killRunGroup, STOP_CAUSE_TEXT } from "./run-stop.js";
import { stderrTail } from "./stderr-tail.js";

/** Bytes as people read them in a reason (MiB with one decimal). */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} bytes`;
}

export class RunExits {
  /** What the restart policy remembers between exits (restart-policy.ts). */
  private history: RestartHistory = NO_RESTARTS;
  private retryTimer?: NodeJS.Timeout;
  private nextRetryAtValue?: Date;

  constructor(
    private readonly core: ProgramCore,
    /** Starts the program again when a retry is due (run-start.ts). */
    /** restart: an automatic restart by the policy (counted as it runs), not a retry of a failed start. */
    private readonly respawn: (reason: string, restart: boolean) => void,
  ) {}

  get nextRetryAt(): Date | undefined {
    return this.nextRetryAtValue;
  }

  /** A retry (BACKOFF) or an automatic restart (EXITED) is scheduled. */
  get pending(): boolean {
    return this.retryTimer !== undefined;
  }

  cancel(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextRetryAtValue = undefined;
  }

  /** A user's start: no retry pending, and the policy's memory starts over. */
  reset(): void {
    this.cancel();
    this.history = NO_RESTARTS;
  }

  /** STARTING ended too early: BACKOFF and retry, or FATAL when retries are used up. */
  startFailed(why: string): void {
    const core = this.core;
    core.countFailedStart();
    const decision = decideAfterFailedStart(core.config, core.startAttempts, why);
    if (decision.action === "fatal") {
      core.transition("FATAL", decision.reason);
      return;
    }
    core.transition("BACKOFF", decision.reason);
    this.schedule(decision.delayMs, `retry ${core.startAttempts}/${core.config.startretries}`, false);
  }

  private schedule(delayMs: number, reason: string, restart: boolean): void {
    this.cancel();
    this.nextRetryAtValue = new Date(Date.now() + delayMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.nextRetryAtValue = undefined;
      const core = this.core;
      // A retry never spawns a program that has moved to another host meanwhile.
      if (core.state !== "BACKOFF" && core.state !== "EXITED") return;
      if (core.remoteHost !== undefined || core.removing) return;
      // Counted as it runs: a restart that a stop cancelled is no restart (the snapshot's
      // `restarts` and corral_program_restarts_total, from the processStarted event, agree).
      if (restart) core.countRestart();
      this.respawn(reason, restart);
    }, delayMs);
  }

  /** The run ended (its exit status known, or not for an adopted one): publish it, then apply the policy. */
  onExit(run: Run): void {
    const core = this.core;
    if (core.run === run) core.clearStartTimer();
    core.logs.runEnded();
    // Only this run's files grew at its end: the total cap recounts them, not every program's
    // (a stop-all of 500 recounted all 1000 files after each exit).
    for (const file of core.logs.all()) core.deps.logBudget?.noteGrowth(file);
    const uptimeMs = performance.now() - run.startedMono;
    this.noteOomKill(run);
    // An exit corral caused on request is expected, whatever the signal; only the others alarm.
    // A run ended over a limit is unexpected whatever its exit code: it is worth an alert.
    const expected = run.stopCause !== undefined || (run.limitHit === undefined && isExpectedExit(core.config, run));
    const tail = stderrTail(core.stderr.path, run.logStart?.stderr ?? 0, core.stderr.fileStartOffset);
    const what = describeExit(run);
    const reason = run.stopCause !== undefined ? `${STOP_CAUSE_TEXT[run.stopCause]}; ${what}` : `${what}${expected ? "" : " (unexpected)"}`;
    core.emit({
      kind: "processExited",
      pid: run.pid,
      exitCode: run.exitCode,
      signal: run.exitSignal,
      expected,
      uptimeMs,
      reason,
      stderrTail: tail,
      ...(run.limitHit ? { limit: run.limitHit } : {}),
    });
    // An unexpected exit's state reason ends with what the program last said (as exec tasks' errors do).
    const stderrNote = expected || tail.length === 0 ? "" : `; last stderr: ${tail.join(" | ")}`;
    if (core.run !== run) return;
    if (core.state === "STOPPING") return; // the stop in progress finishes the transition
    if (core.state === "STARTING") {
      this.reapLeftovers(run);
      this.startFailed(run.killedBecause ? `${what}${stderrNote}` : `${what} before startsecs (${core.config.startsecsMs} ms)${stderrNote}`);
      return;
    }
    // UNKNOWN: a restored run found ended (program-restore.ts); the restart policy applies as usual.
    if (core.state !== "RUNNING" && core.state !== "UNKNOWN") return;
    this.reapLeftovers(run);
    // max_memory restarts whatever autorestart says (as PM2 does), with its backoff and max_restarts.
    const policy = run.limitHit === "max_memory" ? { ...core.config, autorestart: "always" as const } : core.config;
    const decision = decideAfterExit(policy, { exitCode: run.exitCode, exitSignal: run.exitSignal, uptimeMs, what }, this.history, performance.now());
    if (decision.action === "stay-exited") {
      core.transition("EXITED", `${decision.reason}${stderrNote}`);
      return;
    }
    this.history = decision.history;
    if (decision.action === "fatal") {
      core.transition("EXITED", `${decision.exitedReason}${stderrNote}`);
      core.transition("FATAL", `${decision.reason}${stderrNote}`);
      return;
    }
    core.transition("EXITED", `${decision.reason}${stderrNote}`);
    this.schedule(decision.delayMs, `autorestart ${core.restarts + 1} after: ${what}`, true);
  }

  /**
   * limits.memory: the kernel's OOM killer ended processes of the run (memory.events oom_kill of
   * its cgroup, read before the cgroup goes): the run's end is that limit's, with its own event.
   */
  private noteOomKill(run: Run): void {
    const limit = this.core.config.limits?.memoryBytes;
    if (!run.cgroup || limit === undefined || run.limitHit !== undefined) return;
    const oomKills = run.cgroup.oomKills();
    if (oomKills === 0) return;
    const peak = Number(run.cgroup.read("memory.peak") ?? 0);
    run.limitHit = "limits.memory";
    run.killedBecause = `out of memory: the kernel's OOM killer ended ${oomKills} process(es) over limits.memory ${formatBytes(limit)}`;
    this.core.emit({
      kind: "limitExceeded",
      limit: "limits.memory",
      limitBytes: limit,
      observedBytes: Number.isFinite(peak) ? peak : 0,
      oomKills,
      message: `${this.core.name}: run ${run.runId} ${run.killedBecause}`,
    });
  }

  /** Members left in the group (or cgroup) of a leader that exited on its own are orphans of ours: stop them. */
  private reapLeftovers(run: Run): void {
    const left = (run.pid > 0 && groupExists(run.pid)) || (run.cgroup?.procs().length ?? 0) > 0;
    if (left) void killRunGroup(this.core, run);
    else void run.cgroup?.removeWhenEmpty();
  }
}
