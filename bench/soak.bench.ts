// `npm run bench:soak`: the bounded-resources soak of issue 7. A real daemon (test/helpers/daemon.ts)
// runs N programs that each write ~1 MB/s, while 20 log followers and 20 event subscribers read
// through the real client (a quarter of each deliberately slow: read, then pause) and programs are
// restarted every few seconds. The daemon's RSS, V8 heap, external/ArrayBuffer memory (from its
// /metrics; these include garbage not yet collected), open fds and event-loop lag are sampled as a
// series; a table, first/last/max and a flat/growing verdict are printed at the end.
// Sizes: SOAK_SECONDS (600), SOAK_PROGRAMS (50), SOAK_SAMPLE_SECONDS (duration/12, at least 2), SOAK_SLOW_EVERY (4),
// SOAK_RESTART_SECONDS (3). Every program is stopped at the end (StopAll, then the daemon's stop).
import { setMaxListeners } from "node:events";
import { ProcessState, type CorralClient } from "../client/ts/index.js";
import { metricsUrl, sleep, startTestDaemon, waitUntil, type TestDaemon } from "../test/helpers/daemon.js";
import { openFdCount, residentBytes } from "../test/helpers/proc.js";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const PROGRAMS = Number(process.env.SOAK_PROGRAMS ?? 50);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? Math.max(2, Math.round(SECONDS / 12)));
const RESTART_SECONDS = Number(process.env.SOAK_RESTART_SECONDS ?? 3);
const FOLLOWERS = 20;
const SUBSCRIBERS = 20;
/** Every SLOW_EVERYth follower/subscriber reads one item, then pauses this long (SOAK_SLOW_EVERY=0: none slow). */
const SLOW_EVERY = Number(process.env.SOAK_SLOW_EVERY ?? 4);
const SLOW_PAUSE_MS = 2_000;
/** Programs restarted per restart tick (round robin). */
const RESTARTS_PER_TICK = 3;

// ~1 MB/s: a 100 KB block (100 lines of 1000 chars, built once) every 0.1 s; the shell writes it
// straight into the log file (the daemon is not in the pipe), so the daemon's work is the
// followers' reads and the rotation.
const WRITER = "b=$(i=0; while [ $i -lt 100 ]; do printf '%01000d\\n' $i; i=$((i+1)); done); " + "while :; do printf '%s\\n' \"$b\"; sleep 0.1; done";

interface Sample {
  t: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  fds: number;
  lagMs: number;
  rttMs: number;
  followedMb: number;
  events: number;
  restarts: number;
}

interface DaemonGauges {
  /** p99 event-loop delay since the previous scrape. */
  lagMs: number;
  heapMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

/** The daemon's own figures, from its Prometheus endpoint. */
async function scrapeDaemon(url: string): Promise<DaemonGauges> {
  const text = await (await fetch(url)).text();
  const gauge = (name: string) => {
    const match = new RegExp(`^corral_daemon_${name}(?:\\{\\})? (\\S+)$`, "m").exec(text);
    return match ? Number(match[1]) : NaN;
  };
  const mb = (bytes: number) => bytes / (1024 * 1024);
  return {
    lagMs: gauge("event_loop_lag_seconds") * 1000,
    heapMb: mb(gauge("heap_used_bytes")),
    externalMb: mb(gauge("external_memory_bytes")),
    arrayBuffersMb: mb(gauge("array_buffers_bytes")),
  };
}

async function follow(client: CorralClient, name: string, slow: boolean, signal: AbortSignal, counters: { bytes: number }): Promise<void> {
  while (!signal.aborted) {
    try {
      for await (const response of client.processManager.followLogs({ name }, { signal })) {
        counters.bytes += response.chunk?.data.length ?? 0;
        if (slow) await sleep(SLOW_PAUSE_MS);
      }
    } catch (error) {
      if (signal.aborted) return;
      console.error(`follower of ${name}: ${error instanceof Error ? error.message : String(error)} (reconnecting)`);
      await sleep(500);
    }
  }
}

async function subscribe(client: CorralClient, slow: boolean, signal: AbortSignal, counters: { events: number; gaps: number }): Promise<void> {
  let after = 0n;
  while (!signal.aborted) {
    try {
      for await (const item of client.processManager.watchEvents({ afterSeq: after }, { signal })) {
        if (item.kind.case === "event") {
          counters.events++;
          after = item.kind.value.seq;
        } else counters.gaps++;
        if (slow) await sleep(SLOW_PAUSE_MS);
      }
    } catch (error) {
      if (signal.aborted) return;
      console.error(`event subscriber: ${error instanceof Error ? error.message : String(error)} (reconnecting)`);
      await sleep(500);
    }
  }
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "-");

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Flat unless the last third's mean is above the first third's (after the first sample) by both margins. */
function verdict(values: number[], relative: number, absolute: number): string {
  const steady = values.slice(1);
  if (steady.length < 3) return "too short to tell";
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(steady.slice(0, third));
  const late = mean(steady.slice(-third));
  const growing = late > early * (1 + relative) && late - early > absolute;
  return `${growing ? "GROWING" : "flat"} (mean of first third ${fmt(early)}, last third ${fmt(late)})`;
}

async function main(): Promise<void> {
  const programs: Record<string, { command: string; startsecs: number; stop_timeout: string; log: { max_bytes: string; backups: number } }> = {};
  const names = Array.from({ length: PROGRAMS }, (_, i) => `writer${String(i).padStart(2, "0")}`);
  // Rotation keeps the disk bounded: at most (1 + backups) x max_bytes per stream.
  for (const name of names) programs[name] = { command: WRITER, startsecs: 0, stop_timeout: "2s", log: { max_bytes: "4MiB", backups: 1 } };
  const configYaml = JSON.stringify({ metrics: { listen: "127.0.0.1:0" }, programs }, null, 2);
  console.log(
    `soak: ${PROGRAMS} programs x ~1 MB/s, ${FOLLOWERS} log followers and ${SUBSCRIBERS} event subscribers (every ${SLOW_EVERY}th slow: ${SLOW_PAUSE_MS} ms pause per item), ${RESTARTS_PER_TICK} restarts every ${RESTART_SECONDS} s, ${SECONDS} s, sample every ${SAMPLE_SECONDS} s`,
  );

  const daemon: TestDaemon = await startTestDaemon({ configYaml, readyTimeoutMs: 30_000 });
  const stopReaders = new AbortController();
  // One signal ends all 40 streams; each call listens on it.
  setMaxListeners(FOLLOWERS + SUBSCRIBERS + 10, stopReaders.signal);
  const readers: Promise<void>[] = [];
  try {
    await waitUntil(
      async () => {
        const { processes } = await daemon.client.processManager.listProcesses({});
        return processes.filter((p) => p.state === ProcessState.RUNNING).length === PROGRAMS;
      },
      60_000,
      "every program RUNNING",
    );
    const metrics = await metricsUrl(daemon);

    const followed = { bytes: 0 };
    const events = { events: 0, gaps: 0 };
    for (let i = 0; i < FOLLOWERS; i++)
      readers.push(follow(daemon.client, names[i % PROGRAMS]!, SLOW_EVERY > 0 && i % SLOW_EVERY === SLOW_EVERY - 1, stopReaders.signal, followed));
    for (let i = 0; i < SUBSCRIBERS; i++)
      readers.push(subscribe(daemon.client, SLOW_EVERY > 0 && i % SLOW_EVERY === SLOW_EVERY - 1, stopReaders.signal, events));

    let restarts = 0;
    let restartFailures = 0;
    let next = 0;
    const restartTimer = setInterval(() => {
      for (let k = 0; k < RESTARTS_PER_TICK; k++) {
        const name = names[next++ % PROGRAMS]!;
        daemon.client.processManager.restartProcess({ name }).then(
          () => restarts++,
          () => restartFailures++,
        );
      }
    }, RESTART_SECONDS * 1000);

    const samples: Sample[] = [];
    const t0 = performance.now();
    await scrapeDaemon(metrics); // starts the first lag window
    for (;;) {
      const elapsed = (performance.now() - t0) / 1000;
      const wait = Math.min(SAMPLE_SECONDS * (samples.length + 1), SECONDS) - elapsed;
      if (wait > 0) await sleep(wait * 1000);
      const rttStart = performance.now();
      await daemon.client.processManager.getServerInfo({});
      const rttMs = performance.now() - rttStart;
      const gauges = await scrapeDaemon(metrics);
      samples.push({
        t: Math.round((performance.now() - t0) / 1000),
        rssMb: residentBytes(daemon.pid) / (1024 * 1024),
        ...gauges,
        fds: openFdCount(daemon.pid),
        rttMs,
        followedMb: followed.bytes / 1e6,
        events: events.events,
        restarts,
      });
      const s = samples[samples.length - 1]!;
      console.error(
        `t=${s.t}s rss=${fmt(s.rssMb)}MB heap=${fmt(s.heapMb)}MB external=${fmt(s.externalMb)}MB arrayBuffers=${fmt(s.arrayBuffersMb)}MB fds=${s.fds} lag=${fmt(s.lagMs)}ms rtt=${fmt(s.rttMs)}ms followed=${fmt(s.followedMb)}MB events=${s.events} restarts=${s.restarts}`,
      );
      if (s.t >= SECONDS) break;
    }
    clearInterval(restartTimer);

    console.log(
      "\n" +
        table(
          [
            "t (s)",
            "daemon RSS (MB)",
            "V8 heap (MB)",
            "external (MB)",
            "ArrayBuffers (MB)",
            "open fds",
            "event-loop lag p99 (ms)",
            "GetServerInfo RTT (ms)",
            "log MB followed",
            "events received",
            "restarts",
          ],
          samples.map((s) => [
            String(s.t),
            fmt(s.rssMb),
            fmt(s.heapMb),
            fmt(s.externalMb),
            fmt(s.arrayBuffersMb),
            String(s.fds),
            fmt(s.lagMs),
            fmt(s.rttMs),
            fmt(s.followedMb),
            String(s.events),
            String(s.restarts),
          ]),
        ),
    );
    const series = (pick: (s: Sample) => number) => samples.map(pick);
    const summary = (label: string, values: number[], digits: number, relative: number, absolute: number) => [
      label,
      fmt(values[0]!, digits),
      fmt(values[values.length - 1]!, digits),
      fmt(Math.max(...values), digits),
      verdict(values, relative, absolute),
    ];
    console.log(
      "\n" +
        table(
          ["figure", "first", "last", "max", "verdict"],
          [
            summary(
              "daemon RSS (MB)",
              series((s) => s.rssMb),
              1,
              0.2,
              10,
            ),
            summary(
              "V8 heap (MB)",
              series((s) => s.heapMb),
              1,
              0.2,
              10,
            ),
            // Includes Buffers not yet collected: it swings with GC timing, so only a large rise counts.
            summary(
              "external (MB)",
              series((s) => s.externalMb),
              1,
              0.5,
              50,
            ),
            summary(
              "open fds",
              series((s) => s.fds),
              0,
              0.1,
              5,
            ),
            summary(
              "event-loop lag p99 (ms)",
              series((s) => s.lagMs),
              1,
              0.5,
              20,
            ),
            summary(
              "GetServerInfo RTT (ms)",
              series((s) => s.rttMs),
              1,
              0.5,
              20,
            ),
          ],
        ),
    );
    console.log(
      `\nrestarts: ${restarts} ok, ${restartFailures} failed; events received by ${SUBSCRIBERS} subscribers: ${events.events} (gap notices: ${events.gaps}); log bytes followed: ${fmt(followed.bytes / 1e6)} MB`,
    );
  } finally {
    stopReaders.abort();
    await Promise.allSettled(readers);
    try {
      const { results } = await daemon.client.processManager.stopAll({});
      const failed = results.filter((r) => !r.ok);
      console.log(
        `StopAll: ${results.length - failed.length}/${results.length} stopped${failed.length ? `; failed: ${failed.map((r) => `${r.name} (${r.error})`).join(", ")}` : ""}`,
      );
    } catch (error) {
      console.error(`StopAll failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const exit = await daemon.stop();
    console.log(`daemon exited (code ${exit.code}, signal ${exit.signal})`);
  }
}

await main();
