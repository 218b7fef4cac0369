// The core's streams as wire messages: log chunks (with the gaps a reader is told of), journal
// events and the watch items that carry them, and the one sequence-gap shape of the event journal
// and the signal bus.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  EventSchema,
  LogChunkSchema,
  LogGapReason as ProtoLogGapReason,
  WatchEventsResponseSchema,
  type Event,
  type LogChunk as ProtoLogChunk,
  type WatchEventsResponse,
} from "../../gen/ts/corral/v1/process_manager_pb.js";
import { SequenceGapReason } from "../../gen/ts/corral/v1/sequence_pb.js";
import type { GapReason as CoreSequenceGapReason, SequenceGap } from "../core/events/sequenced-log.js";
import type { JournalEvent, WatchItem } from "../core/process/journal.js";
import type { LogChunk, LogGapReason } from "../core/process/types.js";
import { logStreamToProto, msToDuration, stateToProto } from "./convert.js";
import { shareEncoding } from "./shared-encoding.js";

export function logChunkToProto(chunk: LogChunk, program: string): ProtoLogChunk {
  return create(LogChunkSchema, {
    program,
    stream: logStreamToProto(chunk.stream),
    streamName: chunk.label,
    offset: BigInt(chunk.offset),
    data: chunk.data,
    time: timestampFromDate(chunk.time),
    gaps: (chunk.gaps ?? []).map((gap) => ({
      stream: logStreamToProto(gap.stream),
      streamName: gap.label,
      fromOffset: BigInt(gap.fromOffset),
      toOffset: BigInt(gap.toOffset),
      reason: GAP_REASONS[gap.reason],
    })),
  });
}

const GAP_REASONS: Record<LogGapReason, ProtoLogGapReason> = {
  backups: ProtoLogGapReason.BACKUPS,
  max_total: ProtoLogGapReason.MAX_TOTAL,
  disk_full: ProtoLogGapReason.DISK_FULL,
};

export function eventToProto(event: JournalEvent): Event {
  const base = { seq: BigInt(event.seq), time: timestampFromDate(event.time), program: event.program, runId: BigInt(event.runId) };
  const detail = event.detail;
  switch (detail.kind) {
    case "stateChanged":
      return create(EventSchema, {
        ...base,
        detail: { case: "stateChanged", value: { from: stateToProto(detail.from), to: stateToProto(detail.to), reason: detail.reason } },
      });
    case "processStarted":
      return create(EventSchema, {
        ...base,
        detail: { case: "processStarted", value: { pid: detail.pid, pidStartTicks: BigInt(detail.pidStartTicks) } },
      });
    case "processExited":
      return create(EventSchema, {
        ...base,
        detail: {
          case: "processExited",
          value: {
            pid: detail.pid,
            exitCode: detail.exitCode,
            signal: detail.signal ?? "",
            expected: detail.expected,
            uptime: msToDuration(detail.uptimeMs),
            reason: detail.reason ?? "",
            stderrTail: [...(detail.stderrTail ?? [])],
            limit: detail.limit ?? "",
          },
        },
      });
    case "spawnFailed":
      return create(EventSchema, {
        ...base,
        detail: { case: "spawnFailed", value: { path: detail.path, errno: detail.errno, message: detail.message } },
      });
    case "server":
      return create(EventSchema, { ...base, detail: { case: "server", value: { message: detail.message } } });
    case "probeChanged":
      return create(EventSchema, {
        ...base,
        detail: { case: "probeChanged", value: { probe: detail.probe, ok: detail.ok, message: detail.message } },
      });
    case "configApplied": {
      const { added, changed, removed, unchanged, restarted } = detail;
      return create(EventSchema, { ...base, detail: { case: "configApplied", value: { diff: { added, changed, removed, unchanged, restarted } } } });
    }
    case "taskRestored":
      return create(EventSchema, {
        ...base,
        detail: { case: "taskRestored", value: { task: detail.task, type: detail.type, started: detail.started, message: detail.message } },
      });
    case "limitExceeded":
      return create(EventSchema, {
        ...base,
        detail: {
          case: "limitExceeded",
          value: {
            limit: detail.limit,
            limitBytes: BigInt(detail.limitBytes),
            observedBytes: BigInt(Math.max(0, Math.round(detail.observedBytes))),
            oomKills: detail.oomKills,
            message: detail.message,
          },
        },
      });
  }
}

/** One response per journal event, shared by every subscriber that sends it (shared-encoding.ts). */
const eventResponses = new WeakMap<JournalEvent, WatchEventsResponse>();

export function watchItemToProto(item: WatchItem): WatchEventsResponse {
  if ("event" in item) {
    let response = eventResponses.get(item.event);
    if (response === undefined) {
      response = shareEncoding(create(WatchEventsResponseSchema, { kind: { case: "event", value: eventToProto(item.event) } }));
      eventResponses.set(item.event, response);
    }
    return response;
  }
  return create(WatchEventsResponseSchema, { kind: { case: "gap", value: gapToProto(item.gap) } });
}

const SEQUENCE_GAP_REASONS: Record<CoreSequenceGapReason, SequenceGapReason> = {
  "not-held": SequenceGapReason.NOT_HELD,
  "fell-behind": SequenceGapReason.FELL_BEHIND,
  ahead: SequenceGapReason.AHEAD,
};

/** The fields EventGap and SignalGap share: one gap shape for both logs. */
export function gapToProto(gap: SequenceGap): { afterSeq: bigint; firstAvailableSeq: bigint; missed: bigint; reason: SequenceGapReason } {
  return {
    afterSeq: BigInt(gap.afterSeq),
    firstAvailableSeq: BigInt(gap.firstAvailableSeq),
    missed: BigInt(gap.missed),
    reason: SEQUENCE_GAP_REASONS[gap.reason],
  };
}
