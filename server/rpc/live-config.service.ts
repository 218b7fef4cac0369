// ApplyConfig, ReloadConfig, CreateProgram and DeleteProgram of the ProcessManager service:
// requests mapped to the core's live-config operations (core/process/live-config.ts holds the
// policy: allow_adhoc, where relative paths resolve, which file a reload reads) and back.
import type { ServiceImplementation } from "nice-grpc";
import type { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { ProcessManager } from "../core/process/manager.js";
import { processToProto, requireName } from "./convert.js";
import { configDiffToProto, programInputFromSpec } from "./program-spec.js";

type LiveConfigMethods = Pick<ServiceImplementation<typeof ProcessManagerDefinition>, "applyConfig" | "reloadConfig" | "createProgram" | "deleteProgram">;

export function liveConfigMethods(manager: Pick<ProcessManager, "applyConfigFrom" | "reloadConfig" | "createProgram" | "deleteProgram">): LiveConfigMethods {
  return {
    async applyConfig(request) {
      const source = request.source;
      const from = source.case === "text" ? { text: source.value } : source.case === "path" ? { path: source.value } : undefined;
      const applied = await manager.applyConfigFrom(from, { dryRun: request.dryRun });
      return { diff: configDiffToProto(applied), dryRun: request.dryRun };
    },

    async reloadConfig(request) {
      const applied = await manager.reloadConfig({ dryRun: request.dryRun });
      return { diff: configDiffToProto(applied), dryRun: request.dryRun };
    },

    async createProgram(request) {
      const spec = request.spec;
      if (spec === undefined) throw new InvalidArgumentError("spec", undefined, "required (name and command at least)");
      const name = requireName(spec.name, "spec.name");
      return { process: processToProto(await manager.createProgram(name, programInputFromSpec(spec), { start: request.start })) };
    },

    async deleteProgram(request) {
      await manager.deleteProgram(requireName(request.name));
      return {};
    },
  };
}
