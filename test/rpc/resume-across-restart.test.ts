// Resumable watches across a daemon restart, through real daemons on one home: signal seqs
// continue after the previous daemon's (a watcher resuming with its last seq is told what the
// restart lost, then gets the new signals), and an after_seq beyond the last seq the daemon has
// handed out (WatchEvents or WatchSignals) gets a notice, not silence.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SequenceGapReason, toValue, type WatchEventsResponse, type WatchSignalsResponse } from "../../client/ts/index.js";
import { repoRoot, type TestDaemon } from "../helpers/daemon.js";
import { inSharedHome, killDaemon } from "../helpers/shared-home.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");
const config = JSON.stringify({ programs: {}, tasks: { modules: [fixtureModule] } });

/** Reads a stream until `last` says so (or it ends), then cancels it. */
async function readUntil<T>(start: (signal: AbortSignal) => AsyncIterable<T>, last: (item: T) => boolean): Promise<T[]> {
  const abort = new AbortController();
  const items: T[] = [];
  try {
    for await (const item of start(abort.signal)) {
      items.push(item);
      if (last(item)) break;
    }
  } finally {
    abort.abort();
  }
  return items;
}

const signalNamed = (task: string, name: string) => (item: WatchSignalsResponse) =>
  item.kind.case === "signal" && item.kind.value.task === task && item.kind.value.name === name;

/** Runs a flood task of `count` signals and returns the seq of its "completed" signal. */
async function floodAndWait(daemon: TestDaemon, task: string, count: number): Promise<bigint> {
  const tr = daemon.client.taskRunner;
  await tr.createTask({ name: task, type: "flood", args: toValue({ count, bytes: 16, batch: 10 }) });
  await tr.startTask({ name: task });
  // A replaying watch (not live-only): it gets the task's signals whenever it starts.
  const items = await readUntil((signal) => tr.watchSignals({ tasks: [task] }, { signal }), signalNamed(task, "completed"));
  const completed = items[items.length - 1]!;
  assert.ok(completed.kind.case === "signal");
  return completed.kind.value.seq;
}

test("signal seqs continue after a SIGKILLed daemon; a watcher resuming with its last seq is told what the restart lost", { timeout: 90_000 }, async () => {
  await inSharedHome(async ({ start }) => {
    const first = await start({ configYaml: config });
    // The watcher saw everything of task "seen"; "unseen" was published after it went away.
    const watcherLast = await floodAndWait(first, "seen", 5);
    const daemonLast = await floodAndWait(first, "unseen", 5);
    assert.ok(daemonLast > watcherLast);
    await killDaemon(first);

    const second = await start({ configYaml: config });
    const tr = second.client.taskRunner;
    await tr.createTask({ name: "after", type: "flood", args: toValue({ count: 1 }) });
    const [gap, ...rest] = await readUntil((signal) => tr.watchSignals({ afterSeq: watcherLast }, { signal }), signalNamed("after", "created"));
    assert.equal(gap?.kind.case, "gap", `first item: ${gap?.kind.case}`);
    assert.ok(gap.kind.case === "gap");
    assert.equal(gap.kind.value.reason, SequenceGapReason.NOT_HELD);
    assert.equal(gap.kind.value.afterSeq, watcherLast);
    assert.equal(gap.kind.value.firstAvailableSeq, daemonLast + 1n, "the first seq of the new daemon follows the old one's last");
    assert.equal(gap.kind.value.missed, daemonLast - watcherLast, "every signal the restart lost is counted");
    const created = rest[rest.length - 1]!;
    assert.ok(created.kind.case === "signal");
    assert.equal(created.kind.value.seq, daemonLast + 1n, "seqs continue: no seq is handed out twice");
  });
});

test("a WatchSignals or WatchEvents after_seq beyond the last seq gets an AHEAD notice, then everything held", { timeout: 60_000 }, async () => {
  await inSharedHome(async ({ start }) => {
    const daemon = await start({ configYaml: config });
    const last = await floodAndWait(daemon, "one", 2);
    const signals = await readUntil(
      (signal) => daemon.client.taskRunner.watchSignals({ afterSeq: last + 100n }, { signal }),
      (item) => item.kind.case === "signal" && item.kind.value.seq === last,
    );
    const [signalGap, ...signalsAfter] = signals;
    assert.ok(signalGap?.kind.case === "gap", `first item: ${signalGap?.kind.case}`);
    assert.deepEqual(
      {
        reason: signalGap.kind.value.reason,
        afterSeq: signalGap.kind.value.afterSeq,
        first: signalGap.kind.value.firstAvailableSeq,
        missed: signalGap.kind.value.missed,
      },
      { reason: SequenceGapReason.AHEAD, afterSeq: last + 100n, first: 1n, missed: 0n },
    );
    assert.deepEqual(
      signalsAfter.map((item) => (item.kind.case === "signal" ? item.kind.value.seq : -1n)),
      Array.from({ length: Number(last) }, (_, i) => BigInt(i + 1)),
      "every held signal follows the notice",
    );

    const pm = daemon.client.processManager;
    const lastEvent = (await pm.getServerInfo({})).lastEventSeq;
    assert.ok(lastEvent > 0n, "the daemon journaled its start");
    const events = await readUntil(
      (signal) => pm.watchEvents({ afterSeq: lastEvent + 5n }, { signal }),
      (item: WatchEventsResponse) => item.kind.case === "event" && item.kind.value.seq === lastEvent,
    );
    const [eventGap, ...eventsAfter] = events;
    assert.ok(eventGap?.kind.case === "gap", `first item: ${eventGap?.kind.case}`);
    assert.equal(eventGap.kind.value.reason, SequenceGapReason.AHEAD);
    assert.equal(eventGap.kind.value.afterSeq, lastEvent + 5n);
    assert.equal(eventGap.kind.value.missed, 0n);
    assert.equal(eventsAfter[0]?.kind.case === "event" && eventsAfter[0].kind.value.seq, eventGap.kind.value.firstAvailableSeq);
    assert.equal(eventsAfter.length, Number(lastEvent - eventGap.kind.value.firstAvailableSeq + 1n));
  });
});
