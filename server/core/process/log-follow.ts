// Following one stream: new bytes as they are written, from a logical offset, until the reader
// aborts. Woken by inotify (a slow timer backs it up in case an event is missed). It reads only
// when its consumer asks for the next chunk, and a chunk is at most FOLLOW_CHUNK bytes, so a
// client that stops reading holds a fixed amount of daemon memory: the gRPC stream's buffer of
// 16 messages (grpc-js's high-water mark) plus the one chunk being read (two when both streams are
// merged: merge.ts reads one ahead per source): 18 x 16 KiB = 288 KiB, plus HTTP/2's window.
import { isResourceError } from "../resource-errors.js";
import type { LogRead } from "./log-file.js";
import type { LogWatch } from "./log-watch.js";
import type { LogChunk } from "./types.js";

/** Bytes per chunk a follower reads and yields. */
export const FOLLOW_CHUNK = 16 * 1024;
/** How long a follower waits without an inotify event before it looks again anyway. */
const BACKSTOP_MS = 1000;

export async function* followLog(
  file: LogWatch,
  read: (offset: number, maxBytes: number) => Promise<LogRead>,
  fromOffset: number,
  signal?: AbortSignal,
): AsyncGenerator<LogChunk> {
  let position = fromOffset;
  let wake: (() => void) | undefined;
  let pending = true;
  const listener = () => {
    pending = true;
    wake?.();
  };
  const onAbort = () => wake?.();
  file.addListener(listener);
  signal?.addEventListener("abort", onAbort);
  const hadWatcher = file.watching;
  file.start();
  /** A first read succeeded: later resource errors are waited out, not thrown. */
  let reading = false;
  try {
    while (!signal?.aborted) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, BACKSTOP_MS);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (signal?.aborted) break;
      }
      pending = false;
      // Drain everything available now, one bounded chunk per step of the consumer.
      for (;;) {
        let chunk: LogRead;
        try {
          chunk = await read(position, FOLLOW_CHUNK);
        } catch (error) {
          // Out of fds for a moment: a follower already under way tries again on the next
          // wake-up (the bytes wait on disk at their offsets); a new one is told at once.
          if (!reading || !isResourceError(error)) throw error;
          break;
        }
        reading = true;
        const { first: _first, end: _end, ...item } = chunk;
        // Dropped before we read it (rotated past, or the total cap): said, with the offsets.
        if (item.data.length === 0 && !item.gaps) break;
        position = item.offset + item.data.length;
        yield item;
        if (signal?.aborted) return;
        if (item.data.length === 0) break;
      }
      // The watcher can die when the file is recreated; re-arm it.
      if (!file.watching) file.start();
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    file.removeListener(listener, hadWatcher);
  }
}
