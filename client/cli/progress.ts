// A live "starting 37/500 (1.2s)" line on a terminal's stderr while a bulk start or stop runs,
// counted from WatchEvents: bulk calls answer only at the end, and 500 programs take a while.
import { ProcessState, type LabelSelector } from "../index.js";
import { type CliContext, quick } from "./context.js";

export interface ProgressOptions {
  /** "starting" or "stopping". */
  verb: string;
  selector: { matchLabels: Record<string, string>; names: string[] } | LabelSelector;
  /** States in which a program counts as done for this operation. */
  done: (state: ProcessState) => boolean;
}

const CLEAR_LINE = "\r\x1b[2K";

/** Runs operation; on a terminal, draws progress on stderr meanwhile. */
export async function withProgress<T>(ctx: CliContext, options: ProgressOptions, operation: () => Promise<T>): Promise<T> {
  if (!ctx.stderrIsTTY) return operation();
  const watch = new AbortController();
  const stopWatching = () => watch.abort();
  ctx.signal.addEventListener("abort", stopWatching, { once: true });
  const done = new Set<string>();
  let selected: Set<string> | undefined;
  const events = ctx.client.watchEvents({ liveOnly: true }, { signal: watch.signal });
  // Subscribe before listing, so a transition between the two is not lost.
  const watching = (async () => {
    for await (const response of events) {
      if (response.kind.case !== "event") continue;
      const event = response.kind.value;
      if (event.detail.case !== "stateChanged") continue;
      if (selected && !selected.has(event.program)) continue;
      if (options.done(event.detail.value.to)) done.add(event.program);
      else done.delete(event.program);
    }
  })().catch(() => undefined); // progress is best effort; the operation's own result decides

  const startedMs = performance.now();
  const draw = () => {
    const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
    const total = selected ? String(selected.size) : "?";
    ctx.err(`${CLEAR_LINE}${options.verb} ${Math.min(done.size, selected?.size ?? Infinity)}/${total} (${seconds}s)`);
  };
  const timer = setInterval(draw, 100);
  try {
    const { processes } = await ctx.client.listProcesses({ selector: options.selector }, quick(ctx));
    selected = new Set(processes.map((p) => p.name));
    for (const p of processes) if (options.done(p.state)) done.add(p.name);
    return await operation();
  } finally {
    clearInterval(timer);
    watch.abort();
    ctx.signal.removeEventListener("abort", stopWatching);
    await watching;
    ctx.err(CLEAR_LINE);
  }
}
