// One full garbage collection once a burst of work is over. A start-all or stop-all of N
// programs promotes its short-lived objects into V8's old space (the young generation is kept
// small, heap-tuning.ts), and that garbage stays resident until V8's next full collection, which
// a quiet daemon may not reach for minutes: the daemon's RSS grew over start/stop cycles (101 ->
// 116 MB in two of 500), and each spawn's fork pays for every resident page. A burst is many
// journal events; once the journal has been quiet for a moment after one, one collection.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { EventJournal } from "./core/process/journal.js";

/** A burst: at least this many events... */
const BURST_EVENTS = 200;
/** ...followed by this long without one. */
const QUIET_MS = 1_000;

let collect: (() => void) | undefined;

/** A full collection; the `gc` function lives in a context of its own (the daemon's global gets none). */
function fullCollection(): void {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  collect();
}

/** Until signal aborts: a full collection after each burst of journal events, once it is over. */
export async function collectAfterBursts(journal: EventJournal, signal: AbortSignal): Promise<void> {
  let events = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    for await (const _item of journal.watch({ liveOnly: true, signal })) {
      if (++events < BURST_EVENTS) continue;
      // One timer per burst, pushed back by each event (refresh), not one made per event.
      if (timer) timer.refresh();
      else {
        timer = setTimeout(() => {
          events = 0;
          timer = undefined;
          fullCollection();
        }, QUIET_MS);
        timer.unref();
      }
    }
  } catch {
    // the daemon is closing (signal), or the watch ended: nothing to collect for
  } finally {
    clearTimeout(timer);
  }
}
