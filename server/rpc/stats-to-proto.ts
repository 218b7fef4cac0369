// The monitor's stats samples as corral.v1 messages (GetStats, and WatchStats over the Connect
// bridge; gRPC's WatchStats writes the same bytes straight from the samples, stats-encoding.ts).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type {
  ProcessStats as ProtoProcessStats,
  StatsSample as ProtoStatsSample,
  StatsTarget as ProtoStatsTarget,
} from "../../gen/ts/corral/v1/process_monitor_pb.js";
import type { ProcessStats, StatsSample, StatsTarget } from "../core/monitor/stats.js";
import { msToDuration } from "./convert.js";

export function targetToProto(target: StatsTarget): ProtoStatsTarget["target"] {
  return "program" in target ? { case: "program", value: target.program } : { case: "pid", value: target.pid };
}

export function statsToProto(stats: ProcessStats): Omit<ProtoProcessStats, "$typeName"> {
  return {
    pid: stats.pid,
    ppid: stats.ppid,
    name: stats.name,
    state: stats.state,
    cpuPercent: stats.cpuPercent,
    cpuSeconds: stats.cpuSeconds,
    rssBytes: BigInt(stats.rssBytes),
    vsizeBytes: BigInt(stats.vsizeBytes),
    threads: stats.threads,
    openFds: stats.openFds,
    startedAt: timestampFromDate(stats.startedAt),
    uptime: msToDuration(stats.uptimeMs),
    pidStartTicks: BigInt(stats.pidStartTicks),
  };
}

export function sampleToProto(sample: StatsSample) {
  const process = sample.process && statsToProto(sample.process);
  return {
    target: { target: targetToProto(sample.target) },
    program: sample.program ?? "",
    runId: BigInt(sample.runId ?? 0),
    process,
    // Without children the total is the process itself: converted once.
    total: sample.total === sample.process ? process : sample.total && statsToProto(sample.total),
    children: sample.children.map(statsToProto),
    time: timestampFromDate(sample.time),
    error: sample.error?.message ?? "",
  } satisfies Partial<Record<keyof ProtoStatsSample, unknown>>;
}
