// Core specification of the signal bus (bounded ring, subscribers as cursors, gap notices, replay) and
// of task locks (wake-up on release, leases), without a server.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WrongStateError } from "../../server/core/errors.js";
import { TaskRunner } from "../../server/core/task/runner.js";
import { SignalBus, type SignalWatchItem } from "../../server/core/task/signal-bus.js";
import type { TaskContext } from "../../server/core/task/types.js";

class Idle {
  async run(ctx: TaskContext): Promise<void> {
    await ctx.sleep(600_000);
  }
}

describe("signal bus", () => {
  test("a slow subscriber costs no queue of its own and is told how many it missed once the ring moved past it", async () => {
    const bus = new SignalBus({ maxItems: 5 });
    const abort = new AbortController();
    const watch = bus.watch({ liveOnly: true, signal: abort.signal });
    const first = watch.next(); // takes its cursor, then waits
    bus.publish("t", "s", 0);
    assert.deepEqual(((await first).value as SignalWatchItem & { signal: { payload: number } }).signal.payload, 0);
    // The subscriber reads nothing while 100 more are published.
    for (let i = 1; i <= 100; i++) bus.publish("t", "s", i);
    const items: SignalWatchItem[] = [];
    for (let i = 0; i < 6; i++) items.push((await watch.next()).value as SignalWatchItem);
    abort.abort();
    await watch.return(undefined);
    assert.deepEqual(items[0], { gap: { reason: "fell-behind", afterSeq: 1, firstAvailableSeq: 97, missed: 95 } });
    assert.deepEqual(
      items.slice(1).map((item) => ("signal" in item ? item.signal.payload : "gap")),
      [96, 97, 98, 99, 100],
    );
  });

  test("big payloads are bounded by bytes: the ring keeps the newest that fit", async () => {
    const kib = (i: number) => String(i).padEnd(1024, ".");
    const bus = new SignalBus({ maxBytes: 10 * 1024 });
    const abort = new AbortController();
    const watch = bus.watch({ liveOnly: true, signal: abort.signal });
    const first = watch.next();
    bus.publish("t", "s", kib(0));
    await first;
    for (let i = 1; i <= 50; i++) bus.publish("t", "s", kib(i));
    // About 1.1 KiB each (payload + record overhead): 8 fit in 10 KiB.
    const items: SignalWatchItem[] = [];
    for (let i = 0; i < 9; i++) items.push((await watch.next()).value as SignalWatchItem);
    abort.abort();
    await watch.return(undefined);
    assert.equal(bus.firstHeldSeq, 44);
    assert.deepEqual(items[0], { gap: { reason: "fell-behind", afterSeq: 1, firstAvailableSeq: 44, missed: 42 } });
    assert.deepEqual(
      items.slice(1).map((item) => ("signal" in item ? Number.parseInt(item.signal.payload as string, 10) : -1)),
      [43, 44, 45, 46, 47, 48, 49, 50],
    );
    // A replay from the start reports the same seqs as no longer held.
    const replay: SignalWatchItem[] = [];
    const again = new AbortController();
    for await (const item of bus.watch({ afterSeq: 1, signal: again.signal })) {
      replay.push(item);
      if ("signal" in item && item.signal.seq === bus.lastSeq) again.abort();
    }
    assert.deepEqual(replay[0], { gap: { reason: "not-held", afterSeq: 1, firstAvailableSeq: 44, missed: 42 } });
    assert.equal(replay.length, 1 + 8);
  });

  test("replay after a seq older than the ring reports the lost signals first", async () => {
    const bus = new SignalBus({ maxItems: 3 });
    for (let i = 1; i <= 10; i++) bus.publish("t", "s", i);
    const abort = new AbortController();
    const items: SignalWatchItem[] = [];
    for await (const item of bus.watch({ afterSeq: 2, signal: abort.signal })) {
      items.push(item);
      if (items.length === 4) abort.abort();
    }
    assert.deepEqual(items[0], { gap: { reason: "not-held", afterSeq: 2, firstAvailableSeq: 8, missed: 5 } });
    assert.deepEqual(
      items.slice(1).map((item) => ("signal" in item ? item.signal.seq : 0)),
      [8, 9, 10],
    );
  });

  test("filters by task and signal name", async () => {
    const bus = new SignalBus();
    bus.publish("a", "x");
    bus.publish("b", "x");
    bus.publish("a", "y");
    const abort = new AbortController();
    const got: string[] = [];
    const watching = (async () => {
      for await (const item of bus.watch({ tasks: ["a"], names: ["y"], signal: abort.signal })) {
        if ("signal" in item) got.push(`${item.signal.task}:${item.signal.name}`);
        abort.abort();
      }
    })();
    await watching;
    assert.deepEqual(got, ["a:y"]);
  });
});

describe("task locks (core)", () => {
  test("a waiting lock request is granted as soon as the holder unlocks, not after a poll interval", async () => {
    const runner = new TaskRunner();
    runner.registerType(Idle);
    runner.create("t", "Idle");
    const first = await runner.lock("t", {});
    assert.equal(first.granted, true);
    // The request waits from the call on (its waiter is registered before lock() first awaits).
    const waiting = runner.lock("t", { timeoutMs: 10_000 });
    runner.unlock("t", first.token);
    // Granted by the unlock itself, before the event loop's next turn: a poll, however short its
    // interval, would only answer on a timer (a later turn). No wall-clock bound to break under load.
    const nextTurn = new Promise<"next turn">((resolve) => setImmediate(() => resolve("next turn")));
    const winner = await Promise.race([waiting.then(() => "granted" as const), nextTurn]);
    assert.equal(winner, "granted", "the waiting request was granted on unlock, not on a later poll");
    const second = await waiting;
    assert.equal(second.granted, true);
    assert.throws(() => runner.start("t", first.token), WrongStateError);
    runner.forceUnlock("t");
    await runner.remove("t");
  });

  test("a lease expires and frees the task, with lock_expired", async () => {
    const runner = new TaskRunner();
    runner.registerType(Idle);
    runner.create("t", "Idle");
    const grant = await runner.lock("t", { leaseMs: 100 });
    assert.ok(grant.expiresAt);
    assert.throws(() => runner.start("t"), /locked by another client/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(runner.isLocked("t").locked, false);
    const abort = new AbortController();
    const names: string[] = [];
    for await (const item of runner.watchSignals({ tasks: ["t"], signal: abort.signal })) {
      if ("signal" in item) names.push(item.signal.name);
      if (names.includes("lock_expired")) abort.abort();
    }
    assert.deepEqual(names, ["created", "locked", "lock_expired"]);
    await runner.remove("t");
  });
});
