// The restart policy as pure functions: what happens after a run exits (EXITED, a restart after a
// backoff delay, or FATAL when max_restarts is used up) and after a failed start (BACKOFF or
// FATAL). No timers, no processes: run-exit.ts applies the decision; the unit tests call these directly.
import type { ProgramConfig } from "./types.js";

/** What the policy remembers between exits of one program (reset by a user's start). */
export interface RestartHistory {
  /** Restarts after RUNNING exits since the last stable run (drives the backoff delay). */
  consecutiveRestarts: number;
  /** Monotonic times (ms) of the restarts within the window (max_restarts counts them). */
  restartTimes: readonly number[];
}

export const NO_RESTARTS: RestartHistory = { consecutiveRestarts: 0, restartTimes: [] };

/** How a run ended, as the policy needs it. */
export interface ExitFacts {
  exitCode?: number;
  exitSignal?: string;
  uptimeMs: number;
  /** The exit in words ("exited with code 1"), used in the reasons. */
  what: string;
}

export type ExitDecision =
  /** EXITED and left so (the policy does not restart it). */
  | { action: "stay-exited"; reason: string }
  /** EXITED, then FATAL: restarted too often within the window. */
  | { action: "fatal"; exitedReason: string; reason: string; history: RestartHistory }
  /** EXITED, then started again after delayMs. */
  | { action: "restart"; reason: string; delayMs: number; history: RestartHistory };

type PolicyConfig = Pick<ProgramConfig, "autorestart" | "exitcodes" | "backoff" | "maxRestarts" | "restartWindowMs">;

/** The delay before retry number step + 1 (0-based): initial * multiplier^step, capped at max. */
export function backoffDelay(backoff: ProgramConfig["backoff"], step: number): number {
  const { initialMs, maxMs, multiplier } = backoff;
  return Math.round(Math.min(maxMs, initialMs * multiplier ** step));
}

/** An exit with one of the success codes (a signal never is). */
export function isExpectedExit(config: Pick<ProgramConfig, "exitcodes">, exit: { exitCode?: number; exitSignal?: string }): boolean {
  return exit.exitSignal === undefined && exit.exitCode !== undefined && config.exitcodes.includes(exit.exitCode);
}

/**
 * After a run that was up (RUNNING) exits on its own. A run up for backoff.reset_after starts
 * the backoff over; the first restart after a stable run is immediate, the next ones back off.
 */
export function decideAfterExit(config: PolicyConfig, exit: ExitFacts, history: RestartHistory, nowMs: number): ExitDecision {
  const expected = isExpectedExit(config, exit);
  const policy = config.autorestart;
  if (!(policy === "always" || (policy === "on-failure" && !expected))) {
    return { action: "stay-exited", reason: `${exit.what}${expected ? "" : " (unexpected)"}` };
  }
  const consecutive = exit.uptimeMs >= config.backoff.resetAfterMs ? 0 : history.consecutiveRestarts;
  const recent = history.restartTimes.filter((t) => nowMs - t < config.restartWindowMs);
  if (config.maxRestarts > 0 && recent.length >= config.maxRestarts) {
    return {
      action: "fatal",
      exitedReason: exit.what,
      reason: `${exit.what}; restarted ${recent.length} times within ${config.restartWindowMs} ms (max_restarts=${config.maxRestarts})`,
      history: { consecutiveRestarts: consecutive, restartTimes: recent },
    };
  }
  const delayMs = consecutive === 0 ? 0 : backoffDelay(config.backoff, consecutive - 1);
  return {
    action: "restart",
    reason: `${exit.what}; restarting (${policy}) in ${delayMs} ms`,
    delayMs,
    history: { consecutiveRestarts: consecutive + 1, restartTimes: [...recent, nowMs] },
  };
}

export type FailedStartDecision = { action: "fatal"; reason: string } | { action: "backoff"; reason: string; delayMs: number };

/** After start attempt number `attempts` (1-based) ended before the run counted as started. */
export function decideAfterFailedStart(config: Pick<ProgramConfig, "startretries" | "backoff">, attempts: number, why: string): FailedStartDecision {
  if (attempts > config.startretries) {
    return { action: "fatal", reason: `${why}; gave up after ${attempts} attempt(s) (startretries=${config.startretries})` };
  }
  const delayMs = backoffDelay(config.backoff, attempts - 1);
  return { action: "backoff", reason: `${why}; retry ${attempts}/${config.startretries} in ${delayMs} ms`, delayMs };
}
