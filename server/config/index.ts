// The config loader's public API: parse and validate corral's YAML config into core types.
export { ConfigError, formatConfigProblem, loadConfigFile, parseConfig } from "./load.js";
export type { AuthConfig, ConfigProblem, CorralConfig, HostConfig, ParseConfigOptions, ServerConfig, TlsServerConfig } from "./load.js";
export { EXAMPLE_CONFIG_YAML, builtinExampleConfig } from "./example.js";
export { configSchema } from "./schema.js";
export type { ConfigFile } from "./schema.js";
export { parseByteSize, parseDuration, PROGRAM_NAME_PATTERN } from "./values.js";
export { loadConfigFileIsolated, parseConfigIsolated } from "./isolated.js";
export { configReader } from "./reader.js";
