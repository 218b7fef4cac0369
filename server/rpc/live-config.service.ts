// ApplyConfig, ReloadConfig, CreateProgram and DeleteProgram of the ProcessManager service:
// the config text or file is parsed here (all problems at once, with file and line; in a worker,
// as at start-up), the ad-hoc permission checked, and the core's live-config operations called.
import { dirname, isAbsolute } from "node:path";
import type { ServiceImplementation } from "nice-grpc";
import type { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import { loadConfigFileIsolated, parseConfigIsolated } from "../config/isolated.js";
import type { CorralConfig } from "../config/load.js";
import { parseProgram } from "../config/program.js";
import { InvalidArgumentError, PermissionDeniedError, WrongStateError } from "../core/errors.js";
import type { ProcessManager } from "../core/process/manager.js";
import { processToProto, requireName } from "./convert.js";
import { configDiffToProto, programInputFromSpec } from "./program-spec.js";

type LiveConfigMethods = Pick<ServiceImplementation<typeof ProcessManagerDefinition>, "applyConfig" | "reloadConfig" | "createProgram" | "deleteProgram">;

export interface LiveConfigFacts {
  /** Absolute path of the daemon's config file; "" when it runs the built-in example. */
  configPath: string;
  home: string;
  allowAdhoc: boolean;
}

/** Where relative paths of config text and ad-hoc programs are resolved: beside the daemon's config. */
function baseDirOf(facts: LiveConfigFacts): string {
  return facts.configPath === "" ? facts.home : dirname(facts.configPath);
}

export function liveConfigMethods(
  manager: Pick<ProcessManager, "applyConfig" | "createProgram" | "deleteProgram">,
  facts: () => LiveConfigFacts,
): LiveConfigMethods {
  const requireAdhoc = (what: string) => {
    if (!facts().allowAdhoc) {
      throw new PermissionDeniedError(`${what} refused: this daemon does not allow ad-hoc programs (set server.allow_adhoc: true in its config to allow them)`, "ADHOC_DISABLED");
    }
  };

  return {
    async applyConfig(request) {
      const source = request.source;
      let config: CorralConfig;
      if (source.case === "text") {
        config = await parseConfigIsolated(source.value, { file: "<ApplyConfig text>", baseDir: baseDirOf(facts()) });
      } else if (source.case === "path") {
        if (!isAbsolute(source.value)) throw new InvalidArgumentError("path", source.value, "must be an absolute path on the daemon's host");
        config = await loadConfigFileIsolated(source.value);
      } else {
        throw new InvalidArgumentError("source", "", "give the config as text or as a path");
      }
      const applied = await manager.applyConfig(config.programs, { dryRun: request.dryRun });
      return { diff: configDiffToProto(applied), dryRun: request.dryRun };
    },

    async reloadConfig(request) {
      const path = facts().configPath;
      if (path === "") {
        throw new WrongStateError("the daemon runs the built-in example config, so there is no file to reload; start it with --config FILE, or use ApplyConfig (corral apply FILE)", "NO_CONFIG_FILE");
      }
      const config = await loadConfigFileIsolated(path);
      const applied = await manager.applyConfig(config.programs, { dryRun: request.dryRun });
      return { diff: configDiffToProto(applied), dryRun: request.dryRun };
    },

    async createProgram(request) {
      requireAdhoc("CreateProgram");
      const spec = request.spec;
      if (spec === undefined) throw new InvalidArgumentError("spec", undefined, "required (name and command at least)");
      const name = requireName(spec.name, "spec.name");
      const config = parseProgram(name, programInputFromSpec(spec), { source: "CreateProgram", fieldPrefix: "spec", baseDir: baseDirOf(facts()) });
      return { process: processToProto(await manager.createProgram(config, { start: request.start })) };
    },

    async deleteProgram(request) {
      requireAdhoc("DeleteProgram");
      await manager.deleteProgram(requireName(request.name));
      return {};
    },
  };
}
