// Bounded server streams through a real daemon: the number of concurrent streams is capped per
// connection and in total (server.streams), one mechanism for every streaming method, with
// RESOURCE_EXHAUSTED naming the limit; and subscribers that stop reading (WatchEvents,
// WatchSignals, WatchStats) keep the daemon's memory bounded while signals flood in.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createChannel, createClient, type Channel } from "nice-grpc";
import { ClientError, processManagerDefinition, processMonitorDefinition, Status, TaskState, taskRunnerDefinition, toValue } from "../../client/ts/index.js";
import { repoRoot, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { residentBytes } from "../helpers/proc.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");

/** A client on a connection of its own (a local subchannel pool: no sharing with other channels). */
function ownConnection(daemon: TestDaemon): { channel: Channel; pm: ReturnType<typeof pmOf>; tr: ReturnType<typeof trOf>; mon: ReturnType<typeof monOf> } {
  const channel = createChannel(daemon.address, undefined, { "grpc.use_local_subchannel_pool": 1 });
  return { channel, pm: pmOf(channel), tr: trOf(channel), mon: monOf(channel) };
}
const pmOf = (channel: Channel) => createClient(processManagerDefinition, channel);
const trOf = (channel: Channel) => createClient(taskRunnerDefinition, channel);
const monOf = (channel: Channel) => createClient(processMonitorDefinition, channel);

/** Open streams: each has delivered its first item (so the daemon counts it), then is not read. */
class HeldStreams {
  private readonly abort = new AbortController();
  private readonly iterators: AsyncIterator<unknown>[] = [];
  readonly signal = this.abort.signal;

  /** Starts the stream and waits for its first item; a refused stream rejects with its ClientError. */
  async open(start: (signal: AbortSignal) => AsyncIterable<unknown>): Promise<void> {
    const iterator = start(this.signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false, "the stream ended at once");
    this.iterators.push(iterator);
  }

  async closeAll(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.iterators.map((iterator) => iterator.return?.().catch(() => undefined)));
  }
}

async function refused(open: Promise<void>): Promise<ClientError> {
  try {
    await open;
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  assert.fail("the stream was accepted beyond the limit");
}

describe("stream caps", () => {
  let daemon: TestDaemon;
  const channels: Channel[] = [];

  before(async () => {
    daemon = await startTestDaemon({
      configYaml: JSON.stringify({
        server: { streams: { max_per_connection: 3, max_total: 5 } },
        programs: { talker: { command: ["sh", "-c", "echo hello; exec sleep 600"] } },
        tasks: { modules: [fixtureModule] },
      }),
    });
  });

  after(async () => {
    for (const channel of channels) channel.close();
    await daemon?.stop();
  });

  test("the stream beyond max_per_connection or max_total gets RESOURCE_EXHAUSTED naming the limit, for every streaming method", async () => {
    await daemon.client.taskRunner.createTask({ name: "held", type: "flood", args: toValue({ count: 1 }) });
    const a = ownConnection(daemon);
    const b = ownConnection(daemon);
    channels.push(a.channel, b.channel);
    const onA = new HeldStreams();
    const onB = new HeldStreams();
    try {
      // Three different methods fill connection A.
      await onA.open((signal) => a.pm.watchEvents({}, { signal }));
      await onA.open((signal) => a.tr.watchSignals({ tasks: ["held"] }, { signal }));
      await onA.open((signal) =>
        a.mon.watchStats({ targets: [{ target: { case: "pid", value: daemon.pid } }], interval: { seconds: 0n, nanos: 100_000_000 } }, { signal }),
      );
      const perConnection = await refused(onA.open((signal) => a.pm.followLogs({ name: "talker", tailLines: 10 }, { signal })));
      assert.equal(perConnection.code, Status.RESOURCE_EXHAUSTED);
      assert.match(perConnection.details, /server\.streams\.max_per_connection \(3\)/);
      // Another connection still gets streams, up to the total.
      await onB.open((signal) => b.pm.followLogs({ name: "talker", tailLines: 10 }, { signal }));
      await onB.open((signal) => b.pm.watchEvents({}, { signal }));
      const total = await refused(onB.open((signal) => b.mon.runMonitored({ command: "true" }, { signal })));
      assert.equal(total.code, Status.RESOURCE_EXHAUSTED);
      assert.match(total.details, /server\.streams\.max_total \(5\)/);
      // Unary calls are not streams: they still answer.
      assert.equal((await daemon.client.taskRunner.getTask({ name: "held" })).task?.state, TaskState.CREATED);

      // A closed stream gives its slot back (once the daemon has seen the cancel).
      await onA.closeAll();
      let reopened = false;
      await waitUntil(
        async () => {
          reopened = await onB
            .open((signal) => b.pm.watchEvents({}, { signal }))
            .then(
              () => true,
              (error: unknown) => {
                if (error instanceof ClientError && error.code === Status.RESOURCE_EXHAUSTED) return false;
                throw error;
              },
            );
          return reopened;
        },
        10_000,
        "a slot to come free after connection A closed its streams",
      );
    } finally {
      await onA.closeAll();
      await onB.closeAll();
    }
  });
});

describe("stalled subscribers", () => {
  let daemon: TestDaemon;
  const channels: Channel[] = [];

  before(async () => {
    daemon = await startTestDaemon({ configYaml: JSON.stringify({ programs: {}, tasks: { modules: [fixtureModule] } }) });
  });

  after(async () => {
    for (const channel of channels) channel.close();
    await daemon?.stop();
  });

  test("120 WatchEvents, WatchSignals and WatchStats subscribers that stop reading keep the daemon's memory bounded", { timeout: 180_000 }, async () => {
    // 20000 distinct 8 KiB signals = 160 MiB published while 120 subscribers read nothing.
    const count = 20_000;
    const bytes = 8 * 1024;
    await daemon.client.taskRunner.createTask({ name: "flood", type: "flood", args: toValue({ count, bytes, batch: 50 }) });
    const held = new HeldStreams();
    try {
      // Four connections of 30 streams each (10 of each kind), each stream read once, then stalled.
      for (let c = 0; c < 4; c++) {
        const conn = ownConnection(daemon);
        channels.push(conn.channel);
        for (let i = 0; i < 10; i++) {
          await held.open((signal) => conn.tr.watchSignals({ tasks: ["flood"] }, { signal }));
          await held.open((signal) => conn.pm.watchEvents({}, { signal }));
          await held.open((signal) =>
            conn.mon.watchStats({ targets: [{ target: { case: "pid", value: daemon.pid } }], interval: { seconds: 0n, nanos: 100_000_000 } }, { signal }),
          );
        }
      }
      const rssBefore = residentBytes(daemon.pid);
      await daemon.client.taskRunner.startTask({ name: "flood" });
      await waitUntil(
        async () => (await daemon.client.taskRunner.getTask({ name: "flood" })).task?.state === TaskState.COMPLETED,
        120_000,
        "the flood task to complete while 120 subscribers are stalled",
      );
      const rssAfter = residentBytes(daemon.pid);
      const growthMiB = (rssAfter - rssBefore) / 2 ** 20;
      console.log(`# 120 stalled subscribers, 160 MiB of signals: daemon RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> ${(rssAfter / 2 ** 20).toFixed(1)} MiB`);
      // Generous: the ring (16 MiB), each stream's HTTP/2 window and one message, and garbage V8
      // has not collected yet. A daemon buffering for its stalled readers would grow by gigabytes
      // (40 signal subscribers x 160 MiB).
      assert.ok(growthMiB < 160, `the daemon's RSS grew by ${growthMiB.toFixed(1)} MiB with 120 stalled subscribers`);
      // And it still answers everyone else.
      assert.equal((await daemon.client.taskRunner.getTask({ name: "flood" })).task?.state, TaskState.COMPLETED);
    } finally {
      await held.closeAll();
    }
  });
});
