// How the daemon learns that a run it adopted from a previous daemon has ended: the process is
// not its child (no 'exit', no waitpid), so by cgroup.events where the run has a cgroup, else by
// polling /proc/PID/stat (pid + start ticks), with one timer per rate for all such runs.
import { isSameProcess } from "../os/proc.js";
import type { Run } from "./run.js";

/**
 * How often adopted runs without a cgroup are checked for exit. An adopted process is not our
 * child, so there is no 'exit' event and no waitpid; Node 20 has no pidfd and inotify does not
 * work on /proc, so without a cgroup polling /proc/PID/stat is the way. It runs only while such
 * runs exist.
 */
const ADOPTED_POLL_MS = 250;
/**
 * A run with a cgroup is seen ending through cgroup.events (inotify, no polling) the moment its
 * last process exits. Only a leader that exits while other processes of the run live on changes
 * nothing there: that is checked this often (one stat per such run).
 */
const ADOPTED_LEADER_CHECK_MS = 5_000;

/** Watches adopted runs (pid + start ticks; cgroup.events where the run has a cgroup) with one timer per rate. */
export class AdoptedExitWatcher {
  private readonly polled = new Map<Run, () => void>();
  private readonly contained = new Map<Run, { onGone: () => void; unwatch: () => void }>();
  private pollTimer?: NodeJS.Timeout;
  private leaderTimer?: NodeJS.Timeout;

  watch(run: Run, onGone: () => void): void {
    run.checkGone = () => this.recheck(run);
    if (!run.cgroup) {
      this.polled.set(run, onGone);
      this.pollTimer ??= setInterval(() => this.check(), ADOPTED_POLL_MS);
      return;
    }
    const entry: { onGone: () => void; unwatch: () => void } = { onGone, unwatch: () => undefined };
    this.contained.set(run, entry);
    entry.unwatch = run.cgroup.watchEmpty(() => this.gone(run));
    if (this.contained.has(run)) this.leaderTimer ??= setInterval(() => this.checkLeaders(), ADOPTED_LEADER_CHECK_MS);
  }

  check(): void {
    for (const [run, onGone] of this.polled) {
      if (isSameProcess(run.pid, run.pidStartTicks)) continue;
      this.polled.delete(run);
      onGone();
    }
    if (this.polled.size === 0) this.stopPolling();
  }

  /**
   * Looks at one run now, not at the next tick or cgroup.events change: after a stop found its
   * processes gone. The killed processes of an adopted run are init's children, and until init
   * reaps them the cgroup stays populated (no cgroup.events change): waiting for that made every
   * stop of an adopted run in a cgroup as slow as the host's init.
   */
  private recheck(run: Run): void {
    if (this.polled.has(run)) {
      if (isSameProcess(run.pid, run.pidStartTicks)) return;
      const onGone = this.polled.get(run);
      this.polled.delete(run);
      if (this.polled.size === 0) this.stopPolling();
      onGone?.();
      return;
    }
    // cgroup.procs lists no zombie: empty, and the leader gone, is the run's end.
    if (this.contained.has(run) && (run.cgroup?.procs().length ?? 0) === 0 && !isSameProcess(run.pid, run.pidStartTicks)) this.gone(run);
  }

  private checkLeaders(): void {
    for (const run of [...this.contained.keys()]) if (!isSameProcess(run.pid, run.pidStartTicks)) this.gone(run);
  }

  private gone(run: Run): void {
    const entry = this.contained.get(run);
    if (!entry) return;
    this.contained.delete(run);
    entry.unwatch();
    if (this.contained.size === 0 && this.leaderTimer) {
      clearInterval(this.leaderTimer);
      this.leaderTimer = undefined;
    }
    entry.onGone();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  stop(): void {
    this.stopPolling();
    if (this.leaderTimer) clearInterval(this.leaderTimer);
    this.leaderTimer = undefined;
    for (const entry of this.contained.values()) entry.unwatch();
    this.contained.clear();
  }
}
