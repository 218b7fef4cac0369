// What the CLI takes from the server's config code, loaded lazily in one import (and bundled on
// its own): the config loader and QMI's which-host-is-this-machine rule for multi-host mode
// (client/cli/fleet); the loader and the built-in example for `corral check`, `init` and `apply`.
export { ConfigError, loadConfigFile } from "./load.js";
export { AmbiguousHostError, identifyHost } from "./host-identity.js";
export { EXAMPLE_CONFIG_YAML } from "./example.js";
export { parseConfig } from "./load.js";
export { checkConfigFitsHost } from "./host-check.js";
