// Mapping between the wire's scalar values and enums and the core's: durations, timestamps,
// uint64, states, waits, streams, names and selectors, each value from the wire validated (a bad
// one an InvalidArgumentError naming its field). Messages: process-to-proto.ts, event-to-proto.ts.
import { create } from "@bufbuild/protobuf";
import { DurationSchema, durationMs, timestampFromDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  LogStream,
  ProcessState as ProtoProcessState,
  StartWait as ProtoStartWait,
  StopWait as ProtoStopWait,
  type LabelSelector,
} from "../../gen/ts/corral/v1/process_manager_pb.js";
import { InvalidArgumentError } from "../core/errors.js";
import { MAX_DURATION_MS } from "../core/limits.js";
import type { LogStreamName, ProcessState, Selector, StartWait, StopWait, StdStreamName } from "../core/process/types.js";

// ---- durations and timestamps ----

/** Milliseconds -> Duration; core uptimes are fractional (monotonic clock), nanos must be whole. */
export function msToDuration(ms: number): Duration {
  const totalNanos = BigInt(Math.round(ms * 1e6));
  const seconds = totalNanos / 1_000_000_000n; // truncates toward zero, so nanos gets the sign of seconds
  return create(DurationSchema, { seconds, nanos: Number(totalNanos - seconds * 1_000_000_000n) });
}

/** Duration -> milliseconds; absent stays undefined; negative or malformed is refused, naming the field. */
export function durationToMs(duration: Duration | undefined, field: string): number | undefined {
  if (duration === undefined) return undefined;
  const nanosInRange = duration.nanos > -1_000_000_000 && duration.nanos < 1_000_000_000;
  const ms = durationMs(duration);
  if (!nanosInRange || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(field, `${duration.seconds}s ${duration.nanos}ns`, "must be a valid duration");
  }
  if (ms < 0) throw new InvalidArgumentError(field, `${ms}ms`, "must not be negative");
  // Node timers fire at once for delays past 2^31-1 ms: a huge timeout would act as none.
  if (ms > MAX_DURATION_MS) throw new InvalidArgumentError(field, `${duration.seconds}s`, `must be at most ${MAX_DURATION_MS} ms (about 24 days)`);
  return ms;
}

export function timestamp(date: Date | undefined): Timestamp | undefined {
  return date === undefined ? undefined : timestampFromDate(date);
}

/** uint64 on the wire -> a JS number; values past 2^53 cannot be exact offsets or seqs. */
export function uint64ToNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError(field, value, "must be at most 2^53-1");
  return Number(value);
}

// ---- enums ----

const STATE_TO_PROTO: Record<ProcessState, ProtoProcessState> = {
  STOPPED: ProtoProcessState.STOPPED,
  STARTING: ProtoProcessState.STARTING,
  RUNNING: ProtoProcessState.RUNNING,
  BACKOFF: ProtoProcessState.BACKOFF,
  STOPPING: ProtoProcessState.STOPPING,
  EXITED: ProtoProcessState.EXITED,
  FATAL: ProtoProcessState.FATAL,
  UNKNOWN: ProtoProcessState.UNKNOWN,
};

export function stateToProto(state: ProcessState): ProtoProcessState {
  return STATE_TO_PROTO[state] ?? ProtoProcessState.UNKNOWN;
}

export function stateFromProto(state: ProtoProcessState, field = "state"): ProcessState {
  const found = (Object.keys(STATE_TO_PROTO) as ProcessState[]).find((name) => STATE_TO_PROTO[name] === state);
  if (found === undefined) throw new InvalidArgumentError(field, state, "must be a known ProcessState");
  return found;
}

/** Wire enums are open: any int32 can arrive, so every value is checked against a table. */
function enumFromProto<W extends number, C>(table: ReadonlyMap<W, C>, value: W, field: string, names: string): C {
  if (!table.has(value)) throw new InvalidArgumentError(field, value, `must be one of ${names}`);
  return table.get(value) as C;
}

const START_WAITS = new Map<ProtoStartWait, StartWait>([
  [ProtoStartWait.UNSPECIFIED, "running"],
  [ProtoStartWait.NONE, "none"],
  [ProtoStartWait.RUNNING, "running"],
  [ProtoStartWait.READY, "ready"],
]);

export function startWaitFromProto(wait: ProtoStartWait, field = "wait"): StartWait {
  return enumFromProto(START_WAITS, wait, field, "START_WAIT_NONE, START_WAIT_RUNNING, START_WAIT_READY");
}

const STOP_WAITS = new Map<ProtoStopWait, StopWait>([
  [ProtoStopWait.UNSPECIFIED, "stopped"],
  [ProtoStopWait.NONE, "none"],
  [ProtoStopWait.STOPPED, "stopped"],
]);

export function stopWaitFromProto(wait: ProtoStopWait, field = "wait"): StopWait {
  return enumFromProto(STOP_WAITS, wait, field, "STOP_WAIT_NONE, STOP_WAIT_STOPPED");
}

const LOG_STREAMS = new Map<LogStream, StdStreamName | undefined>([
  [LogStream.UNSPECIFIED, undefined],
  [LogStream.STDOUT, "stdout"],
  [LogStream.STDERR, "stderr"],
]);

/** UNSPECIFIED gives undefined: the caller decides what it means (both streams, or stdout). CUSTOM is only meaningful with a name (the caller's). */
export function logStreamFromProto(stream: LogStream, field = "stream"): StdStreamName | undefined {
  return enumFromProto(LOG_STREAMS, stream, field, "LOG_STREAM_STDOUT, LOG_STREAM_STDERR");
}

/** stdout and stderr are themselves (whatever their label); every other stream is a custom one. */
export function logStreamToProto(stream: LogStreamName): LogStream {
  return stream === "stdout" ? LogStream.STDOUT : stream === "stderr" ? LogStream.STDERR : LogStream.CUSTOM;
}

// ---- wire input ----

/** A program name given on the wire: required. */
export function requireName(name: string, field = "name"): string {
  if (name === "") throw new InvalidArgumentError(field, name, "must not be empty");
  return name;
}

export function selectorFromProto(selector: LabelSelector | undefined): Selector | undefined {
  if (selector === undefined) return undefined;
  selector.names.forEach((name, i) => requireName(name, `selector.names[${i}]`));
  return { matchLabels: { ...selector.matchLabels }, names: [...selector.names] };
}
