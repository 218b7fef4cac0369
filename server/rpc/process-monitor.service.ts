// The corral.v1.ProcessMonitor gRPC service: validates wire input, calls the monitor core
// (server/core/monitor) and maps its results. Errors propagate to errorMiddleware.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImplementation } from "nice-grpc";
import { LogStream } from "../../gen/ts/corral/v1/process_manager_pb.js";
import type { ProcessMonitorDefinition } from "../../gen/ts/corral/v1/process_monitor_nice_grpc.js";
import {
  MonitoredOutcome,
  ProgressSource,
  TimeoutKind,
  type MonitoredResult as ProtoMonitoredResult,
  type StatsTarget as ProtoStatsTarget,
} from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { ProcessMonitor } from "../core/monitor/monitor.js";
import type { MonitoredEvent, MonitoredOutcome as CoreOutcome, MonitoredResult } from "../core/monitor/monitored-run.js";
import type { StatsTarget } from "../core/monitor/stats.js";
import { durationToMs, msToDuration, uint64ToNumber } from "./convert.js";
import { watchStatsResponse } from "./stats-encoding.js";
import { sampleToProto } from "./stats-to-proto.js";

export type ProcessMonitorCore = Pick<
  ProcessMonitor,
  "getStats" | "watchStats" | "findProcesses" | "listZombies" | "runMonitored" | "reportProgress" | "failMonitored"
>;
export type ProcessMonitorService = ServiceImplementation<typeof ProcessMonitorDefinition>;

export function createProcessMonitorService(monitor: ProcessMonitorCore): ProcessMonitorService {
  return {
    async getStats(request, context) {
      const sample = await monitor.getStats(targetFromProto(request.target, "target"), {
        includeChildren: request.includeChildren,
        intervalMs: durationToMs(request.interval, "interval"),
        signal: context.signal,
      });
      return { sample: sampleToProto(sample) };
    },

    async *watchStats(request, context) {
      const targets = request.targets.map((target, i) => targetFromProto(target, `targets[${i}]`));
      const ticks = monitor.watchStats(targets, {
        includeChildren: request.includeChildren,
        intervalMs: durationToMs(request.interval, "interval"),
        signal: context.signal,
      });
      for await (const samples of ticks) yield watchStatsResponse(samples);
    },

    async findProcesses(request) {
      const found = monitor.findProcesses(request.items, { contains: request.contains, caseSensitive: request.caseSensitive });
      return {
        processes: found.map((p) => ({
          pid: p.pid,
          ppid: p.ppid,
          name: p.name,
          cmdline: p.cmdline,
          createTime: timestampFromDate(p.createTime),
          state: p.state,
          uid: p.uid ?? 0,
          program: p.program ?? "",
          runId: BigInt(p.runId ?? 0),
        })),
      };
    },

    async listZombies() {
      return {
        zombies: monitor.listZombies().map((z) => ({ ...z, program: z.program ?? "" })),
      };
    },

    async *runMonitored(request, context) {
      const events = monitor.runMonitored({
        command: request.command,
        args: request.args,
        env: request.env,
        cwd: request.cwd,
        inactivityTimeoutMs: durationToMs(request.inactivityTimeout, "inactivity_timeout"),
        totalTimeoutMs: durationToMs(request.totalTimeout, "total_timeout"),
        killSignal: request.killSignal,
        killGraceMs: durationToMs(request.killGrace, "kill_grace"),
        progressPattern: request.progressPattern,
        signal: context.signal,
      });
      for await (const event of events) yield monitoredEventToProto(event);
    },

    async reportProgress(request) {
      const runId = uint64ToNumber(request.runId, "run_id");
      // Handled synchronously, so notifications take effect in the order the daemon received them.
      if (request.failReason !== "") monitor.failMonitored(runId, request.failReason);
      else monitor.reportProgress(runId, request.message);
      return {};
    },
  };
}

function targetFromProto(target: ProtoStatsTarget | undefined, field: string): StatsTarget {
  switch (target?.target.case) {
    case "program":
      return { program: target.target.value };
    case "pid":
      return { pid: target.target.value };
    default:
      throw new InvalidArgumentError(field, "unset", "name a program or a pid");
  }
}

const OUTCOME: Record<CoreOutcome, MonitoredOutcome> = {
  completed: MonitoredOutcome.COMPLETED,
  failed: MonitoredOutcome.FAILED,
  timed_out: MonitoredOutcome.TIMED_OUT,
  spawn_failed: MonitoredOutcome.SPAWN_FAILED,
  killed_by_client: MonitoredOutcome.KILLED_BY_CLIENT,
  failed_by_client: MonitoredOutcome.FAILED_BY_CLIENT,
};

function resultToProto(result: MonitoredResult) {
  return {
    outcome: OUTCOME[result.outcome],
    exitCode: result.exitCode,
    signal: result.signal ?? "",
    timeout: result.timeout === "inactivity" ? TimeoutKind.INACTIVITY : result.timeout === "total" ? TimeoutKind.TOTAL : TimeoutKind.UNSPECIFIED,
    elapsed: msToDuration(result.elapsedMs),
    timedOutAfter: result.timedOutAfterMs === undefined ? undefined : msToDuration(result.timedOutAfterMs),
    spawnPath: result.spawnPath ?? "",
    spawnErrno: result.spawnErrno ?? "",
    message: result.message,
    sigkilled: result.sigkilled,
    secondary: result.secondary.map((f) => ({ outcome: OUTCOME[f.outcome], message: f.message })),
  } satisfies Partial<Record<keyof ProtoMonitoredResult, unknown>>;
}

function monitoredEventToProto(event: MonitoredEvent) {
  switch (event.kind) {
    case "started":
      return { event: { case: "started", value: { runId: BigInt(event.runId), pid: event.pid } } } as const;
    case "output":
      return {
        event: { case: "output", value: { stream: event.stream === "stderr" ? LogStream.STDERR : LogStream.STDOUT, data: event.data } },
      } as const;
    case "progress":
      return {
        event: {
          case: "progress",
          value: {
            message: event.message,
            source: event.source === "pattern" ? ProgressSource.PATTERN : ProgressSource.REPORT,
            time: timestampFromDate(event.time),
          },
        },
      } as const;
    case "result":
      return { event: { case: "result", value: resultToProto(event.result) } } as const;
  }
}
