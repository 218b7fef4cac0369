// The daemon's shutdown of its programs: every program stopped (dependents first, two-stage), or
// left running and saved for the next daemon to adopt (keep_processes, and gaffer's detach per
// program); then timers, watchers and the cgroup subtree released. What the user last asked for
// is kept for the next daemon (persistence.ts: beginShutdown freezes it before the first signal).
import type { CgroupSupport } from "../os/cgroup.js";
import { removeSubtree } from "../os/cgroup.js";
import type { BulkOperations } from "./bulk.js";
import type { EventJournal } from "./journal.js";
import type { LogBudget } from "./log-budget.js";
import type { Persistence } from "./persistence.js";
import type { Program } from "./program.js";

export interface ShutdownParts {
  programs: readonly Program[];
  journal: EventJournal;
  persistence: Persistence;
  bulk: BulkOperations;
  logBudget: LogBudget;
  containment: CgroupSupport;
  /** server.stop_order: sequential */
  sequential: boolean;
}

export async function shutDownPrograms(parts: ShutdownParts, keepProcesses: boolean): Promise<void> {
  const { programs, journal, persistence } = parts;
  persistence.beginShutdown((program) => !keepProcesses && program.config.detach !== true);
  try {
    if (keepProcesses) {
      const live = programs.filter((p) => p.run && !p.run.exitedAt && p.run.pid > 0).length;
      journal.append("", 0, { kind: "server", message: `daemon shutting down: leaving ${live} run(s) running for the next daemon to adopt` });
    } else {
      // gaffer's detach: such a program's run is left running and saved, as with keepProcesses.
      const detached = programs.filter((p) => p.config.detach === true && p.isActive()).map((p) => p.name);
      const leaving = detached.length > 0 ? `; leaving detached ${detached.join(", ")} running for the next daemon to adopt` : "";
      journal.append("", 0, { kind: "server", message: `daemon shutting down: stopping all programs${leaving}` });
      const stopping = programs.filter((p) => p.config.detach !== true);
      await parts.bulk.stopAll(stopping, { wait: "stopped", cause: "shutdown", sequential: parts.sequential });
    }
  } finally {
    // Saved before dispose() cancels pending retries, so the next daemon resumes them.
    persistence.finish();
    for (const program of programs) program.dispose();
    parts.logBudget.close();
    removeSubtree(parts.containment);
  }
}
