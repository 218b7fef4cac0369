// The states of a program (supervisord's) and the transitions allowed between them; Program
// changes state only through transition() (program-core.ts), which checks this table, and restore().
import type { ProcessState } from "./types.js";

/** Allowed transitions; anything else is a bug and throws. */
export const TRANSITIONS: Record<ProcessState, readonly ProcessState[]> = {
  STOPPED: ["STARTING"],
  STARTING: ["RUNNING", "BACKOFF", "STOPPING", "FATAL", "EXITED"],
  RUNNING: ["EXITED", "STOPPING"],
  BACKOFF: ["STARTING", "FATAL", "STOPPED"],
  STOPPING: ["STOPPED"],
  EXITED: ["STARTING", "STOPPED", "FATAL"],
  FATAL: ["STARTING", "STOPPED"],
  UNKNOWN: ["STARTING", "STOPPED", "EXITED", "RUNNING"],
};

/** Throws on a transition the table does not allow: that is a bug, never a user's error. */
export function checkTransition(from: ProcessState, to: ProcessState, what: string): void {
  if (!TRANSITIONS[from].includes(to)) throw new Error(`bug: transition ${from} -> ${to} is not allowed (${what})`);
}
