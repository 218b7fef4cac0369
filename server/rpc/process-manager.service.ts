// The corral.v1.ProcessManager gRPC service: each method validates its request, calls one core
// operation and maps the result. Errors propagate to errorMiddleware (server/rpc/errors.ts).
import { timestampFromDate, timestampMs, type Duration } from "@bufbuild/protobuf/wkt";
import type { ServiceImplementation } from "nice-grpc";
import type { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import { LogStream } from "../../gen/ts/corral/v1/process_manager_pb.js";
import type { StdStreamName } from "../core/process/types.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { ProcessManager } from "../core/process/manager.js";
import type { CgroupSupport } from "../core/os/cgroup.js";
import type { HostCapabilities } from "../core/process/host-fit.js";
import { durationToMs, logStreamFromProto, requireName, selectorFromProto, startWaitFromProto, stopWaitFromProto, uint64ToNumber } from "./convert.js";
import { logChunkToProto, watchItemToProto } from "./event-to-proto.js";
import { processToProto, programResultToProto, shutdownToProto } from "./process-to-proto.js";
import { liveConfigMethods } from "./live-config.service.js";

/** The core operations this service calls (the ProcessManager class of server/core). */
export type ProcessManagerCore = Pick<
  ProcessManager,
  | "journal"
  | "hostName"
  | "containment"
  | "host"
  | "list"
  | "programCount"
  | "get"
  | "start"
  | "stop"
  | "restart"
  | "signal"
  | "startAll"
  | "stopAll"
  | "readLogs"
  | "followLogs"
  | "followAllLogs"
  | "watchEvents"
  | "writeStdin"
  | "closeStdin"
  | "applyConfigFrom"
  | "reloadConfig"
  | "createProgram"
  | "deleteProgram"
>;

/** Facts about the daemon that GetServerInfo reports; read at each call (listen is filled late). */
export interface ServerInfo {
  version: string;
  home: string;
  configPath: string;
  listen: string[];
  startedAt: Date;
  allowAdhoc: boolean;
}

export interface ProcessManagerServiceOptions {
  manager: ProcessManagerCore;
  info: () => ServerInfo;
  /** Called once the Shutdown response is on its way; the daemon then stops programs (unless keepProcesses) and exits. */
  onShutdown: (options: { keepProcesses: boolean }) => void;
}

export type ProcessManagerService = ServiceImplementation<typeof ProcessManagerDefinition>;

/** The wait, timeout and cancellation of a Start/Stop/Restart(All) request, as the core takes them. */
/** A request's stream kind as the core's name (UNSPECIFIED: none); LOG_STREAM_CUSTOM only says a name follows, so it needs one. */
function streamSelection(stream: LogStream, names: readonly string[], field: string): { stream?: StdStreamName } {
  if (stream !== LogStream.CUSTOM) return { stream: logStreamFromProto(stream) };
  if (names.length === 0) throw new InvalidArgumentError(field, "", "LOG_STREAM_CUSTOM needs the custom stream's name here");
  return {};
}

function waitOptions<W, C>(request: { wait: W; timeout?: Duration }, waitFromProto: (wait: W) => C, signal: AbortSignal) {
  return { wait: waitFromProto(request.wait), timeoutMs: durationToMs(request.timeout, "timeout"), signal };
}

export function createProcessManagerService({ manager, info, onShutdown }: ProcessManagerServiceOptions): ProcessManagerService {
  return {
    async listProcesses(request) {
      return { processes: manager.list(selectorFromProto(request.selector)).map((snapshot) => processToProto(snapshot, request.view)) };
    },

    async getProcess(request) {
      return { process: processToProto(manager.get(requireName(request.name))) };
    },

    async startProcess(request, context) {
      const name = requireName(request.name);
      const snapshot = await manager.start(name, waitOptions(request, startWaitFromProto, context.signal));
      return { process: processToProto(snapshot) };
    },

    async stopProcess(request, context) {
      const name = requireName(request.name);
      const result = await manager.stop(name, waitOptions(request, stopWaitFromProto, context.signal));
      return { process: processToProto(result.process), survivors: result.survivors, shutdown: shutdownToProto(result.shutdown) };
    },

    async restartProcess(request, context) {
      const name = requireName(request.name);
      const snapshot = await manager.restart(name, waitOptions(request, startWaitFromProto, context.signal));
      return { process: processToProto(snapshot) };
    },

    async signalProcess(request) {
      const name = requireName(request.name);
      if (request.signal === "") throw new InvalidArgumentError("signal", request.signal, "must not be empty");
      return { process: processToProto(manager.signal(name, request.signal, { group: request.group })) };
    },

    async startAll(request, context) {
      const results = await manager.startAll(selectorFromProto(request.selector), waitOptions(request, startWaitFromProto, context.signal));
      return { results: results.map((result) => programResultToProto(result, request.view)) };
    },

    async stopAll(request, context) {
      const results = await manager.stopAll(selectorFromProto(request.selector), {
        ...waitOptions(request, stopWaitFromProto, context.signal),
        sequential: request.sequential,
      });
      return { results: results.map((result) => programResultToProto(result, request.view)) };
    },

    async readLogs(request) {
      const name = requireName(request.name);
      // A range of bytes belongs to one stream; UNSPECIFIED (and no name) reads stdout, the usual question.
      const result = await manager.readLogs(name, {
        ...streamSelection(request.stream, request.streamName === "" ? [] : [request.streamName], "stream_name"),
        streamName: request.streamName === "" ? undefined : request.streamName,
        offset: uint64ToNumber(request.offset, "offset"),
        maxBytes: request.maxBytes === 0 ? undefined : request.maxBytes,
        tailLines: request.tailLines === 0 ? undefined : request.tailLines,
        sinceMs: request.since === undefined ? undefined : timestampMs(request.since),
      });
      return {
        chunk: logChunkToProto(result.chunk, name),
        firstOffset: BigInt(result.firstOffset),
        endOffset: BigInt(result.endOffset),
      };
    },

    async *followLogs(request, context) {
      const tailLines = request.tailLines === 0 ? undefined : request.tailLines;
      const sinceMs = request.since === undefined ? undefined : timestampMs(request.since);
      if (request.allPrograms) {
        if (request.name !== "") throw new InvalidArgumentError("name", request.name, "must be empty with all_programs (which follows every program)");
        if (request.offset !== undefined)
          throw new InvalidArgumentError("offset", request.offset, "cannot be given with all_programs (offsets are per program)");
        if (request.streamNames.length > 0)
          throw new InvalidArgumentError("stream_names", request.streamNames.join(","), "cannot be given with all_programs (stream names are per program)");
        const { stream } = streamSelection(request.stream, [], "stream_names");
        for await (const { program, chunk } of manager.followAllLogs({ stream, tailLines, sinceMs, signal: context.signal })) {
          yield { chunk: logChunkToProto(chunk, program) };
        }
        return;
      }
      const name = requireName(request.name);
      const { stream } = streamSelection(request.stream, request.streamNames, "stream_names");
      const offset = request.offset === undefined ? undefined : uint64ToNumber(request.offset, "offset");
      if (offset !== undefined && stream === undefined && request.streamNames.length !== 1) {
        throw new InvalidArgumentError("offset", offset, "needs a single stream (stream STDOUT or STDERR, or one of stream_names)");
      }
      const chunks = manager.followLogs(name, { stream, streamNames: [...request.streamNames], tailLines, offset, sinceMs, signal: context.signal });
      for await (const chunk of chunks) yield { chunk: logChunkToProto(chunk, name) };
    },

    async *watchEvents(request, context) {
      request.programs.forEach((program, i) => requireName(program, `programs[${i}]`));
      const items = manager.watchEvents({
        afterSeq: uint64ToNumber(request.afterSeq, "after_seq"),
        liveOnly: request.liveOnly,
        programs: request.programs,
        signal: context.signal,
      });
      for await (const item of items) yield watchItemToProto(item);
    },

    async getServerInfo() {
      const facts = info();
      return {
        version: facts.version,
        pid: process.pid,
        // The name programs' `host` is matched against (--host-name / server.host_name / the machine's).
        hostname: manager.hostName,
        home: facts.home,
        configPath: facts.configPath,
        listen: facts.listen,
        startedAt: timestampFromDate(facts.startedAt),
        programs: manager.programCount,
        lastEventSeq: BigInt(manager.journal.lastSeq),
        allowAdhoc: facts.allowAdhoc,
        containment: containmentToProto(manager.containment, manager.host),
      };
    },

    async writeStdin(request) {
      const name = requireName(request.name);
      return { bytesWritten: BigInt(await manager.writeStdin(name, request.data)) };
    },

    async closeStdin(request) {
      await manager.closeStdin(requireName(request.name));
      return {};
    },

    // ApplyConfig, ReloadConfig, CreateProgram, DeleteProgram.
    ...liveConfigMethods(manager),

    async shutdown(request) {
      // setImmediate: the response is written before the daemon starts to wind down.
      setImmediate(() => onShutdown({ keepProcesses: request.keepProcesses }));
      return {};
    },
  };
}

function containmentToProto(support: CgroupSupport, host: HostCapabilities) {
  return {
    unavailableControllers: Object.fromEntries(Object.entries(support.unavailable).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    userSwitching: host.euid === 0 && host.setpriv !== undefined,
    cgroups: support.mode !== "none",
    cgroupMount: support.mount,
    cgroupRoot: support.root,
    mode: support.mode,
    controllers: support.controllers,
    cgroupKill: support.kill,
    description: support.description,
  };
}
