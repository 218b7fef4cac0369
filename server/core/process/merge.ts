// Interleaves async generators (a program's stdout and stderr followers) into one stream.
// Written without Promise.race on the sources' pending next(): a quiet source's next() stays
// pending for hours, and each race would add a reaction to it that keeps the race's promise,
// and so every item it resolved with, alive until that source speaks (issue 7: the daemon's
// memory grew by every byte of log it served to followers of both streams).

/** Yields items from all sources as each produces them; at most one item is read ahead per source. */
export async function* merge<T>(sources: AsyncGenerator<T>[]): AsyncGenerator<T> {
  const ready: { index: number; result: IteratorResult<T> }[] = [];
  let failure: { error: unknown } | undefined;
  // The consumer's wake-up: a fresh promise per wait, resolved by whichever source settles first.
  let wake: (() => void) | undefined;
  const pull = (index: number): void => {
    sources[index].next().then(
      (result) => {
        ready.push({ index, result });
        wake?.();
      },
      (error: unknown) => {
        failure ??= { error };
        wake?.();
      },
    );
  };
  let open = sources.length;
  sources.forEach((_, i) => pull(i));
  try {
    while (open > 0) {
      if (ready.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (failure) throw failure.error;
      const { index, result } = ready.shift()!;
      if (result.done) {
        open--;
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    await Promise.all(sources.map((source) => source.return(undefined)));
  }
}
