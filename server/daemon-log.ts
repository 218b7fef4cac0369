// The daemon's own log on stderr: every journaled event (state changes, exits, FATAL, spawn
// failures, config changes, server notes) as one line, text for people or JSON for machines,
// so journald and `docker logs` show what happened without a client.
import type { EventJournal, JournalEvent, WatchItem } from "./core/process/journal.js";

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface EventLog {
  /** Writes what is queued (events of the turn that is ending, e.g. the last STOPPED), then stops. */
  stop(): Promise<void>;
}

/**
 * Writes each event appended to journal from now on (not the ones a previous daemon left) to
 * write, one line each, until stop(). Subscribes synchronously, so call it before the events
 * that must be logged are appended. The lines of one turn of the event loop go out in one write
 * (stderr to a pipe is a synchronous write each: a start-all of 500 made 1500 of them).
 */
export function logEvents(journal: EventJournal, format: LogFormat, write: (lines: string) => void = writeStderr): EventLog {
  // The lines of this turn, written at its end (bounded by what one turn appends). A listener,
  // not a watch: nothing is queued for the log beyond the turn, and it never falls behind.
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const lines = pending.join("\n");
    pending = [];
    write(lines);
  };
  const unsubscribe = journal.listen("the daemon log", (event) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(formatItem({ event }, format));
  });
  return {
    stop: async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      unsubscribe();
      flush();
    },
  };
}

let stderrBroken = false;
/** stderr, until it fails (a closed terminal gives EIO, a closed pipe EPIPE): then the log stops, the daemon goes on. */
function writeStderr(lines: string): void {
  if (stderrBroken) return;
  if (process.stderr.listenerCount("error") === 0) process.stderr.on("error", () => (stderrBroken = true));
  try {
    process.stderr.write(`${lines}\n`);
  } catch {
    stderrBroken = true;
  }
}

type Level = "info" | "warn" | "error";

function levelOf(event: JournalEvent): Level {
  const { detail } = event;
  if (detail.kind === "stateChanged") return detail.to === "FATAL" ? "error" : detail.to === "BACKOFF" ? "warn" : "info";
  if (detail.kind === "processExited") return detail.expected ? "info" : "warn";
  if (detail.kind === "spawnFailed") return "error";
  if (detail.kind === "probeChanged") return detail.ok ? "info" : "warn";
  if (detail.kind === "limitExceeded") return "warn";
  return "info";
}

function describe(event: JournalEvent): string {
  const { detail } = event;
  switch (detail.kind) {
    case "stateChanged":
      return `${detail.from} -> ${detail.to}: ${detail.reason}`;
    case "processStarted":
      return `started pid ${detail.pid} (run ${event.runId})`;
    case "processExited": {
      const how = detail.reason ?? (detail.signal ? `killed by ${detail.signal}` : `exited with code ${detail.exitCode}`);
      const tail = detail.stderrTail && detail.stderrTail.length > 0 ? `; last stderr: ${detail.stderrTail.join(" | ")}` : "";
      // A reason says "(unexpected)" itself; an older journal's event has none.
      const unexpected = detail.expected || detail.reason !== undefined ? "" : " (unexpected)";
      return `exited pid ${detail.pid} (run ${event.runId}) after ${(detail.uptimeMs / 1000).toFixed(1)} s: ${how}${unexpected}${tail}`;
    }
    case "spawnFailed":
      return `spawn failed: ${detail.message}`;
    case "server":
      return detail.message;
    case "probeChanged":
      return `${detail.probe} probe ${detail.ok ? "passing" : "failing"}: ${detail.message}`;
    case "configApplied": {
      const list = (names: string[]) => (names.length > 0 ? names.join(", ") : "-");
      return `config applied: added ${list(detail.added)}; changed ${list(detail.changed)}; removed ${list(detail.removed)}; restarted ${list(detail.restarted)}`;
    }
    case "taskRestored":
      return `task ${detail.task} (${detail.type}) restored${detail.started ? " and started" : ""}: ${detail.message}`;
    case "limitExceeded":
      return `over ${detail.limit}: ${detail.message}`;
  }
}

/** One line: text "TIME LEVEL PROGRAM: what happened", or a JSON object with the event's fields. */
export function formatItem(item: WatchItem, format: LogFormat): string {
  if ("gap" in item) {
    const message = `${item.gap.missed} event(s) after seq ${item.gap.afterSeq} not logged: the log could not keep up (they are in the journal: corral events)`;
    return format === "json"
      ? JSON.stringify({ time: new Date().toISOString(), level: "warn", kind: "logGap", ...item.gap, message })
      : `${new Date().toISOString()} warn corral: ${message}`;
  }
  const { event } = item;
  const level = levelOf(event);
  if (format === "json") {
    return JSON.stringify({
      time: event.time.toISOString(),
      level,
      seq: event.seq,
      program: event.program,
      runId: event.runId,
      ...event.detail,
      message: describe(event),
    });
  }
  // One event, one line: a reason or message with newlines in it is folded.
  return `${event.time.toISOString()} ${level} ${event.program || "corral"}: ${describe(event).replace(/\r?\n/g, " | ")}`;
}
