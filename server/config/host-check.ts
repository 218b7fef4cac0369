// `corral check`'s look at the host: a program whose limits need a cgroup controller this host
// does not give, or that runs as another user where that cannot be done, is a problem of the
// config, as the daemon would find it at load. Nothing on the host is made or changed (the
// controllers are probed, not enabled); it judges as the checking process sees the host (its
// cgroup, its uid), and the daemon checks again with its own.
import { hostname } from "node:os";
import { probeLimitControllers } from "../core/os/cgroup.js";
import { assertFitsHost, hostCapabilities } from "../core/process/host-fit.js";
import type { CorralConfig } from "./load.js";

/** Throws a ConfigError naming each field this host cannot honour (programs of other hosts are skipped). */
export function checkConfigFitsHost(config: CorralConfig, file: string): void {
  const cgroups = probeLimitControllers({ root: config.server.cgroupRoot, home: "" });
  assertFitsHost(config.programs, hostCapabilities(cgroups), config.server.hostName ?? hostname(), {
    file,
    fieldOf: (name, field) => `programs.${name}.${field}`,
  });
}
