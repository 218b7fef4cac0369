// The per-program series of /metrics: info (host, remote, adhoc, config labels), up, state, ready,
// restarts and last exit code from the scrape's snapshots, and CPU, memory, fds and start time of
// each live run's process tree from the scrape's one /proc pass. Only this host's programs.
import type { Registry } from "prom-client";
import type { ProcessStats } from "../core/monitor/stats.js";
import { PROCESS_STATES, type ProcessSnapshot } from "../core/process/types.js";
import { ScrapedCounter, ScrapedGauge } from "./scraped.js";

/** What one scrape reads, once: every program's snapshot and the live runs' process trees. */
export interface Scrape {
  programs: ProcessSnapshot[];
  /** The daemon's own programs: remote ones are exported by their host's daemon. */
  local: ProcessSnapshot[];
  trees: Map<string, ProcessStats>;
}

/** A config label key as a Prometheus label name: kube-state-metrics' label_<key> convention. */
function labelName(key: string): string {
  return `label_${key.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

export function registerProgramMetrics(r: Registry, current: () => Scrape): void {
  const perProgram = (name: string, help: string, value: (p: ProcessSnapshot) => number | undefined) =>
    r.registerMetric(
      new ScrapedGauge(name, help, () =>
        current().local.flatMap((p) => {
          const v = value(p);
          return v === undefined ? [] : [{ labels: { program: p.name, host: p.host }, value: v }];
        }),
      ),
    );
  const perTree = (name: string, help: string, value: (s: ProcessStats) => number | undefined, counter = false) => {
    const compute = () => {
      const { local, trees } = current();
      return local.flatMap((p) => {
        const tree = trees.get(p.name);
        const v = tree && value(tree);
        return v === undefined ? [] : [{ labels: { program: p.name, host: p.host }, value: v }];
      });
    };
    r.registerMetric(counter ? new ScrapedCounter(name, help, compute) : new ScrapedGauge(name, help, compute));
  };
  r.registerMetric(
    new ScrapedGauge(
      "corral_program_info",
      "1 for every program the daemon lists, with its host, whether it runs elsewhere (remote) or was created at run time (adhoc), and its config labels as label_<key>",
      () =>
        current().programs.map((p) => ({
          labels: {
            program: p.name,
            host: p.host,
            remote: String(p.remote),
            adhoc: String(p.adhoc),
            ...Object.fromEntries(Object.entries(p.config.labels ?? {}).map(([k, v]) => [labelName(k), v])),
          },
          value: 1,
        })),
    ),
  );
  perProgram("corral_program_up", "1 when the program has a live run (STARTING, RUNNING or STOPPING); only this host's programs", (p) =>
    current().trees.has(p.name) ? 1 : 0,
  );
  r.registerMetric(
    new ScrapedGauge("corral_program_state", "1 for the program's current state, 0 for the others", () =>
      current().local.flatMap((p) => PROCESS_STATES.map((state) => ({ labels: { program: p.name, host: p.host, state }, value: p.state === state ? 1 : 0 }))),
    ),
  );
  perProgram("corral_program_ready", "1 when the program is ready (readiness probe passed, or RUNNING without one)", (p) => (p.ready ? 1 : 0));
  perProgram(
    "corral_program_restarts",
    "automatic restarts since the program was last started by a user (see corral_program_restarts_total for a counter)",
    (p) => p.restarts,
  );
  perProgram("corral_program_last_exit_code", "exit code of the last run that exited with a code", (p) => p.run?.exitCode);
  perTree("corral_program_cpu_seconds_total", "user + system CPU time of the current run's process tree", (s) => s.cpuSeconds, true);
  perTree("corral_program_resident_memory_bytes", "resident memory of the current run's process tree", (s) => s.rssBytes);
  perTree("corral_program_open_fds", "open file descriptors of the current run's process tree", (s) => s.openFds);
  perTree("corral_program_start_time_seconds", "start of the current run, in seconds since the epoch", (s) => s.startedAt.getTime() / 1000);
}
