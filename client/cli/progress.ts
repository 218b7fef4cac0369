// A live "starting 37/500 done (1.2s, 500 spawned)" line on a terminal's stderr during a bulk
// start or stop, counted from WatchEvents: bulk calls answer only at the end, which takes a while.
import { ProcessView, type ProcessState, type LabelSelector } from "../ts/index.js";
import { type CliContext, quick } from "./context.js";

export interface ProgressOptions {
  /** "starting" or "stopping". */
  verb: string;
  selector: { matchLabels: Record<string, string>; names: string[] } | LabelSelector;
  /** States in which a program counts as done for this operation. */
  done: (state: ProcessState) => boolean;
  /** A state that shows the operation has begun for a program, and how to say so ("spawned"). */
  begun?: { state: ProcessState; word: string };
}

const CLEAR_LINE = "\r\x1b[2K";

/** Runs operation; on a terminal, draws progress on stderr meanwhile. */
export async function withProgress<T>(ctx: CliContext, options: ProgressOptions, operation: () => Promise<T>): Promise<T> {
  if (!ctx.stderrIsTTY) return operation();
  const watch = new AbortController();
  const stopWatching = () => watch.abort();
  ctx.signal.addEventListener("abort", stopWatching, { once: true });
  const done = new Set<string>();
  const begun = new Set<string>();
  let selected: Set<string> | undefined;
  const events = ctx.client.watchEvents({ liveOnly: true }, { signal: watch.signal });
  // Subscribe before listing, so a transition between the two is not lost.
  const watching = (async () => {
    for await (const response of events) {
      if (response.kind.case !== "event") continue;
      const event = response.kind.value;
      if (event.detail.case !== "stateChanged") continue;
      if (selected && !selected.has(event.program)) continue;
      if (event.detail.value.to === options.begun?.state) begun.add(event.program);
      if (options.done(event.detail.value.to)) done.add(event.program);
      else done.delete(event.program);
    }
  })().catch(() => undefined); // progress is best effort; the operation's own result decides

  const startedMs = performance.now();
  const draw = () => {
    const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
    const total = selected ? String(selected.size) : "?";
    // Programs that are done have begun too, even if their begin event came before we listened.
    const begunCount = new Set([...begun, ...done]).size;
    const begunText = options.begun ? `, ${begunCount} ${options.begun.word}` : "";
    ctx.err(`${CLEAR_LINE}${options.verb} ${done.size}/${total} done (${seconds}s${begunText})`);
  };
  const timer = setInterval(draw, 100);
  try {
    // Only names and states are read here: the slim view.
    const { processes } = await ctx.client.listProcesses({ selector: options.selector, view: ProcessView.BASIC }, quick(ctx));
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
