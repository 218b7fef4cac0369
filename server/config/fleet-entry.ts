// What the CLI's multi-host mode (client/cli/fleet) takes from the server, loaded lazily in one
// import (and bundled on its own): the config loader and QMI's which-host-is-this-machine rule.
export { ConfigError, loadConfigFile } from "./load.js";
export { AmbiguousHostError, identifyHost } from "./host-identity.js";
