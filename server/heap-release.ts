// One compacting garbage collection once a burst of work is over, and no collection after it while
// the daemon is idle. A start-all or stop-all of N programs promotes its short-lived objects into
// V8's old space (the young generation is kept small, heap-tuning.ts) and leaves those pages
// fragmented: after a plain full collection old space held 39 MB of pages for 24 MB of live objects
// (issue 19), and each spawn's fork pays for every resident page. V8's memory reducer would compact
// them, but 8-16 s later, in two or three collections that cost ~230 ms of CPU over five threads:
// that was the daemon's whole idle CPU with 500 programs running (0.27-0.34 % over the bench's 60 s window, the
// steady idle being ~0.001 %). So the daemon does that work itself at once, in one collection that
// compacts every page (old space 24.5 MB after it, RSS as low as after the reducer), and keeps the
// reducer from starting another while the daemon is idle: the reducer starts its collections
// through incremental marking, which is off from then until the next event or the next young
// collection (allocation, e.g. by status calls), so its timer only re-arms itself (~0.1 ms every 8 s).
import { PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { EventJournal } from "./core/process/journal.js";

/** A burst: at least this many events... */
const BURST_EVENTS = 200;
/** ...followed by this long without one. */
const QUIET_MS = 1_000;

let collect: (() => void) | undefined;

/** A full collection that evacuates every fragmented page; `gc` lives in a context of its own (the daemon's global gets none). */
function compactingCollection(): void {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  setFlagsFromString("--compact-on-every-full-gc");
  try {
    collect();
  } finally {
    setFlagsFromString("--no-compact-on-every-full-gc");
  }
}

/** While marking is paused: told of the first collection after the pause, which only allocation starts. */
let pausedUntilCollection: PerformanceObserver | undefined;

/** Right after a full collection (no marking is under way): the memory reducer can start none. */
function pauseIncrementalMarking(): void {
  setFlagsFromString("--no-incremental-marking");
  // Calls that make no event (GetProcess, ListProcesses) still allocate: their first young
  // collection turns marking back on, so V8 never collects a grown old space in one long pause.
  pausedUntilCollection = new PerformanceObserver(resumeIncrementalMarking);
  pausedUntilCollection.observe({ entryTypes: ["gc"] });
}

function resumeIncrementalMarking(): void {
  if (!pausedUntilCollection) return;
  pausedUntilCollection.disconnect();
  pausedUntilCollection = undefined;
  setFlagsFromString("--incremental-marking");
}

/** Until signal aborts: a compacting collection after each burst of journal events, once it is over. */
export function collectAfterBursts(journal: EventJournal, signal: AbortSignal): void {
  let events = 0;
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe = journal.listen("the heap release after bursts", () => {
    // Any event is work again: V8 schedules its collections as usual until the next quiet.
    resumeIncrementalMarking();
    if (++events < BURST_EVENTS) return;
    // One timer per burst, pushed back by each event (refresh), not one made per event.
    if (timer) timer.refresh();
    else {
      timer = setTimeout(() => {
        events = 0;
        timer = undefined;
        compactingCollection();
        pauseIncrementalMarking();
      }, QUIET_MS);
      timer.unref();
    }
  });
  // The daemon is closing: nothing to collect for.
  signal.addEventListener(
    "abort",
    () => {
      unsubscribe();
      clearTimeout(timer);
      resumeIncrementalMarking();
    },
    { once: true },
  );
}
