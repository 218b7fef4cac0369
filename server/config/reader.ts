// The process core's ConfigReader (core/process/live-config.ts), made of this folder's loader:
// config text and files are parsed in a worker (isolated.ts), one program by the shared schema.
import type { ConfigReader } from "../core/process/live-config.js";
import { loadConfigFileIsolated, parseConfigIsolated } from "./isolated.js";
import { parseProgram } from "./program.js";

export const configReader: ConfigReader = {
  parseText: async (text, options) => (await parseConfigIsolated(text, options)).programs,
  loadFile: async (path) => (await loadConfigFileIsolated(path)).programs,
  parseProgram,
};
