// The fan-out row: a state change reaching each of 100 WatchEvents subscribers (each on its own
// channel), latency = receipt time − the event's time, p99 over every (subscriber, event); the
// limit is a bare grpc-js server writing a stamped message to 100 streams, whose clients decode,
// per message, one of corral's own events with protobuf-es (as corral's client does with each
// event): the 100 subscribers share one bench process, and without that the limit left out ~25 ms
// of client work at 100 subscribers that corral's figure holds. Both stamps are truncated to the
// millisecond (corral's event time has ms resolution), so both are biased alike.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { setMaxListeners } from "node:events";
import { connect, StartWait, StopWait, WatchEventsResponseSchema, type CorralClient, type WatchEventsResponse } from "../../client/ts/index.js";
import { sleep, waitUntil } from "../../test/helpers/wait.js";
import type { BenchContext } from "../lib/context.js";
import { quantile } from "../quantile.js";
import { sleepProgram } from "../lib/context.js";
import { unary } from "../lib/limit-grpc.js";
import { cpuMs } from "../lib/proc.js";
import { atMost, type BenchRow } from "../lib/row.js";
import { wallMs } from "../limit/grpc-service.js";
import { limitGrpc } from "./api.js";

interface FanOut {
  corral: number[];
  limit: number[];
  events: number;
  emits: number;
  /** The daemon's CPU over the rounds (the starts and stops included), all threads; the limit's over its rounds. */
  daemonCpuMs: number;
  limitCpuMs: number;
}

function fanOut(ctx: BenchContext, subscribers: number): Promise<FanOut> {
  return ctx.memo(`fan-out:${subscribers}`, async () => {
    const daemon = await ctx.daemon("events", { e0: sleepProgram({}) });
    const server = await limitGrpc(ctx);
    const rounds = Number(process.env.BENCH_FANOUT_ROUNDS ?? ctx.pick(20, 6));
    ctx.progress(`event fan-out to ${subscribers} subscribers, ${rounds} rounds`);

    // corral: subscribers from the last event on (it is replayed: that says the stream is open).
    const clients: CorralClient[] = Array.from({ length: subscribers }, () => connect({ address: daemon.socketPath }));
    const abort = new AbortController();
    setMaxListeners(subscribers + 10, abort.signal);
    const from = (await daemon.client.processManager.getServerInfo({})).lastEventSeq;
    const corral: number[] = [];
    const lastSeen = new Array<bigint>(subscribers).fill(0n);
    /** The replayed event, as the limit's clients decode it with each message. */
    let sample: WatchEventsResponse | undefined;
    const streams = clients.map(async (client, i) => {
      try {
        for await (const item of client.processManager.watchEvents({ afterSeq: from - 1n }, { signal: abort.signal })) {
          sample ??= item;
          if (item.kind.case !== "event") continue;
          const event = item.kind.value;
          const received = Math.floor(wallMs());
          if (event.seq > from && event.time) corral.push(received - (Number(event.time.seconds) * 1000 + Math.floor(event.time.nanos / 1e6)));
          lastSeen[i] = event.seq;
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    });
    await waitUntil(() => lastSeen.every((seq) => seq >= from), 30_000, "every subscriber's replayed event");

    // limit: the same number of streams; one emit first, to know each is open.
    const sampleBytes = toBinary(WatchEventsResponseSchema, sample!);
    const limitClients = Array.from({ length: subscribers }, () => server.client());
    const limit: number[] = [];
    const limitSeen = new Array<number>(subscribers).fill(0);
    const limitCalls = limitClients.map((client, i) => {
      const call = client.watch(Buffer.alloc(0));
      call.on("data", (message: Buffer) => {
        fromBinary(WatchEventsResponseSchema, sampleBytes);
        const received = Math.floor(wallMs());
        if (limitSeen[i]! > 0) limit.push(received - Math.floor(message.readDoubleLE(0)));
        limitSeen[i]!++;
      });
      call.on("error", () => {});
      return call;
    });
    const emitter = server.client();
    await unary(emitter, "emit");
    await waitUntil(() => limitSeen.every((n) => n >= 1), 30_000, "every limit stream's first message");

    const pm = daemon.client.processManager;
    let emits = 1;
    let daemonCpuMs = 0;
    let limitCpuMs = 0;
    for (let r = 0; r < rounds; r++) {
      const c0 = cpuMs(daemon.pid);
      await pm.startProcess({ name: "e0", wait: StartWait.RUNNING });
      await sleep(30);
      await pm.stopProcess({ name: "e0", wait: StopWait.STOPPED });
      await sleep(30);
      daemonCpuMs += cpuMs(daemon.pid) - c0;
      // The limit's round: a burst of three after a state change, twice, like corral's events.
      const l0 = cpuMs(server.pid);
      for (let burst = 0; burst < 2; burst++) {
        for (let k = 0; k < 3; k++, emits++) await unary(emitter, "emit");
        await sleep(30);
      }
      limitCpuMs += cpuMs(server.pid) - l0;
    }
    const to = (await pm.getServerInfo({})).lastEventSeq;
    await waitUntil(() => lastSeen.every((seq) => seq >= to) && limitSeen.every((n) => n >= emits), 30_000, "every subscriber's last event");
    abort.abort();
    await Promise.all(streams);
    for (const client of clients) client.close();
    for (const call of limitCalls) call.cancel();
    for (const client of [...limitClients, emitter]) client.close();
    return { corral, limit, events: Number(to - from), emits: emits - 1, daemonCpuMs, limitCpuMs };
  });
}

export const fanOutRow = (subscribers: number): BenchRow => ({
  name: `state change → event at each of ${subscribers} subscribers, p99`,
  baseline: `bare grpc-js stream to ${subscribers}, decoded`,
  goal: atMost(5, "ms"),
  async measure(ctx) {
    const f = await fanOut(ctx, subscribers);
    return {
      corral: quantile(f.corral, 0.99),
      baseline: quantile(f.limit, 0.99),
      unit: "ms",
      detail: `${f.events} events × ${subscribers}; p50 ${quantile(f.corral, 0.5)} vs ${quantile(f.limit, 0.5)} ms (1 ms resolution); CPU per event per subscriber ${((f.daemonCpuMs / f.events / subscribers) * 1000).toFixed(0)} vs ${((f.limitCpuMs / f.emits / subscribers) * 1000).toFixed(0)} µs`,
    };
  },
});
