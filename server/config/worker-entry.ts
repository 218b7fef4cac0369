// Worker side of isolated.ts: parses one config and posts back plain data.
import { parentPort, workerData } from "node:worker_threads";
import type { ConfigJob, ConfigReply } from "./isolated.js";
import { ConfigError, loadConfigFile, parseConfig } from "./load.js";

const job = workerData as ConfigJob;
let reply: ConfigReply;
try {
  reply = { ok: job.kind === "file" ? await loadConfigFile(job.path) : parseConfig(job.text, job.options) };
} catch (error) {
  reply = error instanceof ConfigError ? { problems: error.problems } : { error: error instanceof Error ? error.message : String(error) };
}
parentPort?.postMessage(reply);
