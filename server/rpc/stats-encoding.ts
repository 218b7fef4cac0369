// WatchStats ticks encoded for gRPC straight from the monitor's samples. protobuf-es's reflective
// path (the proto-shaped copy, create(), toBinary() with a fork and a join per nested message)
// took about as much CPU per tick as the /proc reads at 1000 targets, and made most of the tick's
// garbage; this writes the same bytes (test/rpc/stats-encoding.test.ts compares them with
// toBinary's) into one reused buffer. Field numbers come from the generated schemas.
import type { DescMessage } from "@bufbuild/protobuf";
import { DurationSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";
import type { ProcessMonitorDefinition } from "../../gen/ts/corral/v1/process_monitor_nice_grpc.js";
import { ProcessStatsSchema, StatsSampleSchema, StatsTargetSchema, WatchStatsResponseSchema } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import type { ProcessStats, StatsSample } from "../core/monitor/stats.js";
import { BackwardWriter } from "./backward-writer.js";
import { sampleToProto } from "./stats-to-proto.js";

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;

/** The tag (field number and wire type) of each field, by its name in the generated code. */
function tagsOf<const Names extends string>(schema: DescMessage, names: readonly Names[], wire: Record<Names, number>): Record<Names, number> {
  const tags = {} as Record<Names, number>;
  for (const name of names) {
    const field = schema.field[name];
    if (!field) throw new Error(`${schema.typeName} has no field ${name}`);
    tags[name] = (field.number << 3) | wire[name];
  }
  return tags;
}

const STATS = tagsOf(
  ProcessStatsSchema,
  ["pid", "ppid", "name", "state", "cpuPercent", "cpuSeconds", "rssBytes", "vsizeBytes", "threads", "openFds", "startedAt", "uptime", "pidStartTicks"],
  {
    pid: VARINT,
    ppid: VARINT,
    name: LENGTH,
    state: LENGTH,
    cpuPercent: FIXED64,
    cpuSeconds: FIXED64,
    rssBytes: VARINT,
    vsizeBytes: VARINT,
    threads: VARINT,
    openFds: VARINT,
    startedAt: LENGTH,
    uptime: LENGTH,
    pidStartTicks: VARINT,
  },
);
const SAMPLE = tagsOf(StatsSampleSchema, ["target", "program", "runId", "process", "total", "children", "time", "error"], {
  target: LENGTH,
  program: LENGTH,
  runId: VARINT,
  process: LENGTH,
  total: LENGTH,
  children: LENGTH,
  time: LENGTH,
  error: LENGTH,
});
const TARGET = tagsOf(StatsTargetSchema, ["program", "pid"], { program: LENGTH, pid: VARINT });
const RESPONSE = tagsOf(WatchStatsResponseSchema, ["samples"], { samples: LENGTH });
const TIMESTAMP = tagsOf(TimestampSchema, ["seconds", "nanos"], { seconds: VARINT, nanos: VARINT });
const DURATION = tagsOf(DurationSchema, ["seconds", "nanos"], { seconds: VARINT, nanos: VARINT });

const writer = new BackwardWriter();

function writeTimestamp(w: BackwardWriter, tag: number, date: Date): void {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`cannot encode an invalid date as a Timestamp`);
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const mark = w.written;
  if (nanos !== 0) w.intField(TIMESTAMP.nanos, nanos);
  if (seconds !== 0) w.intField(TIMESTAMP.seconds, seconds);
  w.close(tag, mark);
}

/** As msToDuration (convert.ts): whole nanoseconds, truncated toward zero into seconds. */
function writeDuration(w: BackwardWriter, tag: number, ms: number): void {
  const totalNanos = Math.round(ms * 1e6);
  let seconds: number;
  let nanos: number;
  if (Number.isSafeInteger(totalNanos)) {
    // Exact: below 2^53 the quotient is under 2^24, where doubles are 2^-29 apart, and a
    // quotient short of a whole number is short by at least 1e-9: it never rounds up to it.
    seconds = Math.trunc(totalNanos / 1e9);
    nanos = totalNanos - seconds * 1e9;
  } else {
    const total = BigInt(totalNanos);
    const whole = total / 1_000_000_000n;
    seconds = Number(whole);
    nanos = Number(total - whole * 1_000_000_000n);
  }
  const mark = w.written;
  if (nanos !== 0) w.intField(DURATION.nanos, nanos);
  if (seconds !== 0) w.intField(DURATION.seconds, seconds);
  w.close(tag, mark);
}

function writeStats(w: BackwardWriter, tag: number, s: ProcessStats): void {
  const mark = w.written;
  if (s.pidStartTicks !== 0) w.uintField(STATS.pidStartTicks, s.pidStartTicks);
  writeDuration(w, STATS.uptime, s.uptimeMs);
  writeTimestamp(w, STATS.startedAt, s.startedAt);
  if (s.openFds !== undefined) w.uintField(STATS.openFds, s.openFds);
  if (s.threads !== 0) w.uintField(STATS.threads, s.threads);
  if (s.vsizeBytes !== 0) w.uintField(STATS.vsizeBytes, s.vsizeBytes);
  if (s.rssBytes !== 0) w.uintField(STATS.rssBytes, s.rssBytes);
  if (!Object.is(s.cpuSeconds, 0)) w.doubleField(STATS.cpuSeconds, s.cpuSeconds);
  if (s.cpuPercent !== undefined) w.doubleField(STATS.cpuPercent, s.cpuPercent);
  if (s.state !== "") w.stringField(STATS.state, s.state);
  if (s.name !== "") w.stringField(STATS.name, s.name);
  if (s.ppid !== 0) w.intField(STATS.ppid, s.ppid);
  if (s.pid !== 0) w.intField(STATS.pid, s.pid);
  w.close(tag, mark);
}

function writeSample(w: BackwardWriter, s: StatsSample): void {
  const mark = w.written;
  const error = s.error?.message ?? "";
  if (error !== "") w.stringField(SAMPLE.error, error);
  writeTimestamp(w, SAMPLE.time, s.time);
  for (let i = s.children.length - 1; i >= 0; i--) writeStats(w, SAMPLE.children, s.children[i]);
  const beforeTotal = w.written;
  if (s.total) writeStats(w, SAMPLE.total, s.total);
  if (s.process && s.process === s.total) {
    // Without children the total is the process itself: the same bytes under another tag.
    const afterTotal = w.written;
    w.repeat(beforeTotal, afterTotal);
    w.retag(SAMPLE.process);
  } else if (s.process) writeStats(w, SAMPLE.process, s.process);
  if (s.runId !== undefined && s.runId !== 0) w.uintField(SAMPLE.runId, s.runId);
  if (s.program !== undefined && s.program !== "") w.stringField(SAMPLE.program, s.program);
  const targetMark = w.written;
  if ("program" in s.target) w.stringField(TARGET.program, s.target.program);
  else w.intField(TARGET.pid, s.target.pid);
  w.close(SAMPLE.target, targetMark);
  w.close(RESPONSE.samples, mark);
}

/** A WatchStatsResponse of these samples, as toBinary would write it. */
export function encodeWatchStatsResponse(samples: readonly StatsSample[]): Uint8Array {
  try {
    for (let i = samples.length - 1; i >= 0; i--) writeSample(writer, samples[i]);
    return writer.take();
  } finally {
    writer.reset();
  }
}

/** The samples of responses made by watchStatsResponse, for the gRPC encoder. */
const samplesOf = new WeakMap<object, readonly StatsSample[]>();

/**
 * One WatchStats tick as the service yields it: a WatchStatsResponse whose proto-shaped samples
 * are made only if something reads them (the Connect bridge); gRPC encodes the samples straight.
 */
export function watchStatsResponse(samples: readonly StatsSample[]): { readonly samples: ReturnType<typeof sampleToProto>[] } {
  let converted: ReturnType<typeof sampleToProto>[] | undefined;
  const response = {
    get samples() {
      converted ??= samples.map(sampleToProto);
      return converted;
    },
  };
  samplesOf.set(response, samples);
  return response;
}

/** The ProcessMonitor definition with WatchStats responses encoded by encodeWatchStatsResponse. */
export function withStatsEncoding(definition: typeof ProcessMonitorDefinition): typeof ProcessMonitorDefinition {
  const serialize = definition.watchStats.responseSerialize;
  return {
    ...definition,
    watchStats: {
      ...definition.watchStats,
      responseSerialize: (value) => {
        const samples = typeof value === "object" && value !== null ? samplesOf.get(value) : undefined;
        return samples ? encodeWatchStatsResponse(samples) : serialize(value);
      },
    },
  };
}
