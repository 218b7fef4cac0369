// The one definition of `corral server`'s options: the daemon's own entry (daemon-entry.ts, via
// main.ts) parses them with node:util, the CLI (client/cli/spec.ts) shows, completes and parses
// them with "did you mean". Import-free, so the CLI can load it without any of the server.

export const SERVER_OPTIONS = {
  config: { type: "string", value: "FILE", description: "the YAML config (default: a built-in example)", complete: "files" },
  home: { type: "string", value: "DIR", description: "state directory: socket, logs, state (default: $CORRAL_HOME or ~/.corral)", complete: "dirs" },
  listen: {
    type: "string",
    multiple: true,
    value: "HOST:PORT",
    description: "a TCP listener, repeatable; replaces server.listen. Beyond loopback it needs server.tls and server.auth, or --insecure",
  },
  insecure: {
    type: "boolean",
    description:
      "allow TCP listeners beyond loopback without TLS or authentication (logs a warning; anyone who reaches the port controls this host's processes)",
  },
  "keep-processes": {
    type: "boolean",
    description: "on SIGTERM/SIGINT leave the programs running (for an upgrade): the next daemon on the same home re-adopts them",
  },
  "host-name": {
    type: "string",
    value: "NAME",
    description:
      "this daemon's host name (default: server.host_name, else the hosts entry whose address is this machine, else the machine's); programs of another host are listed as remote, never started",
  },
  "log-format": {
    type: "string",
    value: "FMT",
    description: "how every state change, exit, FATAL and config change is logged to stderr, one line each: text (default) or json",
    complete: ["text", "json"],
  },
} as const;

export const SERVER_DETAILS =
  "SIGTERM/SIGINT stop the programs and the daemon; SIGHUP re-reads --config and applies it, like corral reload (ignored, and logged, without --config).";

/** The parsed options, as node:util parseArgs (and the CLI's parser) give them. */
export type ServerArgs = {
  -readonly [Name in keyof typeof SERVER_OPTIONS]?: (typeof SERVER_OPTIONS)[Name] extends { type: "boolean" }
    ? boolean
    : (typeof SERVER_OPTIONS)[Name] extends { multiple: true }
      ? string[]
      : string;
};
