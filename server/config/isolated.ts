// Parses a config in a short-lived worker thread. The YAML parser's garbage for a large config
// (20-30 MB of heap for 500 programs) dies with the worker's heap; parsed in the daemon's own
// isolate, V8 keeps those pages committed for good. Only plain data crosses back.
import { Worker } from "node:worker_threads";
import { ConfigError, type ConfigProblem, type CorralConfig, type ParseConfigOptions } from "./load.js";

export type ConfigJob = { kind: "file"; path: string } | { kind: "text"; text: string; options: ParseConfigOptions };
export type ConfigReply = { ok: CorralConfig } | { problems: ConfigProblem[] } | { error: string };

function runJob(job: ConfigJob): Promise<CorralConfig> {
  return new Promise<CorralConfig>((resolve, reject) => {
    const worker = new Worker(new URL("./worker-entry.js", import.meta.url), { workerData: job });
    let settled = false;
    worker.once("message", (reply: ConfigReply) => {
      settled = true;
      if ("ok" in reply) resolve(reply.ok);
      else if ("problems" in reply) reject(new ConfigError(reply.problems));
      else reject(new Error(reply.error));
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`config parser worker exited with code ${code} before answering`));
    });
  });
}

/** loadConfigFile, run in a worker: same result, same ConfigError. */
export function loadConfigFileIsolated(path: string): Promise<CorralConfig> {
  return runJob({ kind: "file", path });
}

/** parseConfig, run in a worker: same result, same ConfigError. */
export function parseConfigIsolated(text: string, options: ParseConfigOptions): Promise<CorralConfig> {
  return runJob({ kind: "text", text, options });
}
