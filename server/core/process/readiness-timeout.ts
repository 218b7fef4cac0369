// The give-up of a readiness probe that never passes: after the probe's start_timeout (default
// 60 s) a run still STARTING is stopped and counts as a failed start (BACKOFF, then FATAL).
import type { ProbeConfig } from "./types.js";

/**
 * Calls giveUp(why) once start_timeout has passed, if stillStarting() then holds; returns the
 * timer, for the caller to clear when the run gets RUNNING, exits or is stopped.
 */
export function armReadinessTimeout(probe: ProbeConfig, stillStarting: () => boolean, giveUp: (why: string) => void): NodeJS.Timeout {
  const limitMs = probe.startTimeoutMs;
  return setTimeout(() => {
    if (stillStarting()) giveUp(`readiness probe did not pass within start_timeout (${limitMs} ms)`);
  }, limitMs);
}
