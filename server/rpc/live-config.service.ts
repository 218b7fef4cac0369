// ApplyConfig, ReloadConfig, CreateProgram and DeleteProgram of the ProcessManager service:
// requests mapped to the core's live-config operations (core/process/live-config.ts holds the
// policy: allow_adhoc, where relative paths resolve, which file a reload reads) and back.
import type { ServiceImplementation } from "nice-grpc";
import type { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import { ConfigError } from "../core/config-error.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { ProcessManager } from "../core/process/manager.js";
import { requireName } from "./convert.js";
import { processToProto } from "./process-to-proto.js";
import { configDiffToProto, programInputFromSpec } from "./program-spec.js";

type LiveConfigMethods = Pick<ServiceImplementation<typeof ProcessManagerDefinition>, "applyConfig" | "reloadConfig" | "createProgram" | "deleteProgram">;

/** The problems of a file that was read only because it could not be read are about the reading, not its text. */
const READ_PROBLEM = /^(config file not found|is a directory, not a config file|permission denied reading the config file|cannot read the config file)/;

/**
 * ApplyConfig with a path makes the daemon read a file the caller named, with the daemon's
 * rights: its problems keep their positions but never quote the file (keys, values, YAML
 * snippets), or any readable file could be dumped through the error. The caller, who can read
 * the file, sees the full problems with `corral check FILE`.
 */
function withoutContents(error: unknown): unknown {
  if (!(error instanceof ConfigError)) return error;
  return new ConfigError(
    error.problems.map((problem) =>
      problem.line === undefined && READ_PROBLEM.test(problem.rule)
        ? { file: problem.file, field: "", rule: problem.rule }
        : {
            file: problem.file,
            ...(problem.line !== undefined ? { line: problem.line, column: problem.column ?? 1 } : {}),
            field: "",
            rule: "not a valid corral config here (the daemon does not quote a file it was asked to read: run `corral check FILE` to see the problem)",
          },
    ),
  );
}

export function liveConfigMethods(manager: Pick<ProcessManager, "applyConfigFrom" | "reloadConfig" | "createProgram" | "deleteProgram">): LiveConfigMethods {
  return {
    async applyConfig(request) {
      const source = request.source;
      const from = source.case === "text" ? { text: source.value } : source.case === "path" ? { path: source.value } : undefined;
      const applied = await manager.applyConfigFrom(from, { dryRun: request.dryRun, allowEmpty: request.allowEmpty }).catch((error: unknown) => {
        throw source.case === "path" ? withoutContents(error) : error;
      });
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
