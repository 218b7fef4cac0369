// max_memory wired into the daemon: the sampler (core/monitor/max-memory.ts) over the manager's
// runs, armed when a run of a program with max_memory starts (a processStarted event; an applied
// config may add max_memory to a running program, hence configApplied too), and a run over its
// limit restarted by the manager. A start of a program without max_memory costs one look at that
// program's config: asking the watch (every program's snapshot) at each of 500 starts was ~70 ms
// of a start-all with no max_memory anywhere.
import { MaxMemoryWatch } from "./core/monitor/max-memory.js";
import { runLookupOf } from "./core/monitor/runs.js";
import type { ProcessManager } from "./core/process/manager.js";

/** Runs until signal aborts; the watch's timer exists only while a run with max_memory is live. */
export function watchMaxMemory(manager: ProcessManager, signal: AbortSignal): void {
  const watch = new MaxMemoryWatch({
    runs: runLookupOf(manager),
    targets: () =>
      manager.list().flatMap((p) => (p.config.maxMemoryBytes !== undefined && !p.remote ? [{ program: p.name, maxMemoryBytes: p.config.maxMemoryBytes }] : [])),
    onExceeded: (over) => {
      manager.restartOverMemory(over.program, over.runId, over.rssBytes, over.maxMemoryBytes).catch((error: unknown) => {
        const message = `${over.program}: max_memory restart failed: ${error instanceof Error ? error.message : String(error)}`;
        manager.journal.append(over.program, over.runId, { kind: "server", message });
      });
    },
  });
  watch.update();
  const unsubscribe = manager.journal.listen("max_memory", ({ detail, program }) => {
    // A start arms the watch only if its program has max_memory: the targets are read from
    // every program, and doing that on each of a start-all's N starts was N² snapshots.
    if ((detail.kind === "processStarted" && hasMaxMemory(manager, program)) || detail.kind === "configApplied") watch.update();
  });
  signal.addEventListener(
    "abort",
    () => {
      unsubscribe();
      watch.stop();
    },
    { once: true },
  );
}

function hasMaxMemory(manager: ProcessManager, name: string): boolean {
  return manager.configOf(name)?.maxMemoryBytes !== undefined;
}
