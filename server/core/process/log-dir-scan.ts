// The names in the log directory, grouped by the stream they belong to, read once for all the
// streams that ask together. Every stream lists its backups when it is loaded (and again for the
// total cap and rotation), and the directory of N programs holds ~3N files: a readdir per stream
// was N² names, 9 million strings for 1000 streams at start-up (seconds of CPU and ~100 MB of
// garbage the daemon's heap kept for good). Here a caller joins the listing not issued yet, or
// else the next one, issued once the one in flight has ended: never one issued before it asked,
// so it sees every rename and removal that finished before its call.
import { readdir } from "node:fs/promises";

/** A stream's files, by the name of its current file ("web.stdout.log"): each name after its "web.stdout.log.". */
export type NamesByStream = ReadonlyMap<string, readonly string[]>;

interface DirScan {
  /** The listing in flight, if any. */
  running?: Promise<NamesByStream>;
  /** The listing to be issued next (after the one running): callers arriving now share it. */
  next?: Promise<NamesByStream>;
}

const scans = new Map<string, DirScan>();

/** The directory's backup and partial names per stream (`<stream file>.<digits>[.partial]`). */
export function scanLogDirectory(dir: string): Promise<NamesByStream> {
  let scan = scans.get(dir);
  if (!scan) scans.set(dir, (scan = {}));
  if (scan.next) return scan.next;
  const state = scan;
  const before = state.running?.catch(() => undefined) ?? Promise.resolve();
  const next = before.then(() => {
    // Issued now: whoever asks from here on waits for the listing after this one.
    state.next = undefined;
    const running = readdir(dir).then(groupByStream);
    state.running = running;
    const done = () => {
      if (state.running !== running) return;
      state.running = undefined;
      if (!state.next) scans.delete(dir);
    };
    running.then(done, done);
    return running;
  });
  state.next = next;
  return next;
}

/** "web.stdout.log.00000000000000000042" (and ".partial", and the old ".1") under "web.stdout.log". */
function groupByStream(names: string[]): NamesByStream {
  const byStream = new Map<string, string[]>();
  for (const name of names) {
    const base = name.endsWith(".partial") ? name.slice(0, -".partial".length) : name;
    const dot = base.lastIndexOf(".");
    if (dot <= 0 || !isDigits(base, dot + 1)) continue;
    const stream = base.slice(0, dot);
    const list = byStream.get(stream);
    if (list) list.push(name);
    else byStream.set(stream, [name]);
  }
  return byStream;
}

function isDigits(text: string, from: number): boolean {
  if (from >= text.length) return false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
