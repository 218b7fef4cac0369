// OpenTelemetry export against a real OpenTelemetry Collector (built from the collector's Go
// modules by scripts/build-otelcol.sh: the OTLP receiver and the debug exporter): the daemon's
// spans for gRPC calls (with their status and caller), its events as OTLP logs and its programs'
// metrics reach the collector, which prints them.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { randomBytes } from "node:crypto";
import { Metadata } from "nice-grpc";
import { StartWait, StopWait } from "../../client/ts/index.js";
import { repoRoot, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const collectorPath = process.env.CORRAL_OTELCOL ?? join(repoRoot, ".tools/otelcol/otelcol-corral-test");
const skip = existsSync(collectorPath) ? false : `no OpenTelemetry Collector at ${collectorPath} (scripts/build-otelcol.sh builds it; npm test runs it)`;

/** A free loopback port (the collector's config needs a fixed one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("OpenTelemetry export to a real collector", { skip }, () => {
  let dir: string;
  let collector: ChildProcess;
  let output = "";
  let daemon: TestDaemon;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-otel-"));
    const port = await freePort();
    const config = [
      "receivers:",
      "  otlp:",
      "    protocols:",
      "      http:",
      `        endpoint: 127.0.0.1:${port}`,
      "exporters:",
      "  debug:",
      "    verbosity: detailed",
      "service:",
      // The collector's own metrics endpoint would bind a fixed port: off.
      "  telemetry:",
      "    metrics:",
      "      level: none",
      "  pipelines:",
      "    traces: {receivers: [otlp], exporters: [debug]}",
      "    logs: {receivers: [otlp], exporters: [debug]}",
      "    metrics: {receivers: [otlp], exporters: [debug]}",
      "",
    ].join("\n");
    await writeFile(join(dir, "collector.yaml"), config);
    collector = spawn(collectorPath, ["--config", join(dir, "collector.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
    const append = (data: Buffer) => {
      // Bounded: the test looks for a few names; 4 MiB of the newest output is plenty.
      output = (output + data.toString("utf8")).slice(-4 * 1024 * 1024);
    };
    collector.stdout?.on("data", append);
    collector.stderr?.on("data", append);
    await waitUntil(() => /Everything is ready/.test(output) || collector.exitCode !== null, 60_000, "the collector ready");
    assert.equal(collector.exitCode, null, `the collector exited:\n${output}`);
    daemon = await startTestDaemon({
      configYaml: JSON.stringify({
        telemetry: { otlp_endpoint: `http://127.0.0.1:${port}`, service_name: "corral-test", logs: true, metrics: true, metrics_interval: "1s" },
        programs: { worker: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" } },
      }),
    });
  });

  after(async () => {
    await daemon?.stop();
    if (collector && collector.exitCode === null) {
      collector.kill("SIGTERM");
      await new Promise((resolve) => collector.once("exit", resolve));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("every RPC is a SERVER span with rpc.* attributes, its status and its caller", async () => {
    const pm = daemon.client.processManager;
    await pm.getProcess({ name: "worker" });
    await rpcError(pm.getProcess({ name: "missing" }));
    // A caller's W3C trace context makes the daemon's span its child.
    const traceId = randomBytes(16).toString("hex");
    const parentId = randomBytes(8).toString("hex");
    await pm.listProcesses({}, { metadata: Metadata({ traceparent: `00-${traceId}-${parentId}-01` }) });
    await waitUntil(() => /Name\s*: corral\.v1\.ProcessManager\/GetProcess/.test(output), 30_000, "a GetProcess span at the collector");
    assert.match(output, /service\.name: Str\(corral-test\)/);
    assert.match(output, /Kind\s*: Server/);
    assert.match(output, /rpc\.system: Str\(grpc\)/);
    assert.match(output, /rpc\.method: Str\(GetProcess\)/);
    assert.match(output, /enduser\.id: Str\(local-socket\)/);
    await waitUntil(() => /rpc\.grpc\.status_code: Int\(5\)/.test(output), 30_000, "the NOT_FOUND call's span (status code 5)");
    assert.match(output, /Status code\s*: Error/);
    await waitUntil(() => new RegExp(`Trace ID\\s*: ${traceId}\\s+Parent ID\\s*: ${parentId}`).test(output), 30_000, "the span under the caller's trace");
  });

  test("events arrive as OTLP log records, and program metrics as OTLP metrics", async () => {
    const pm = daemon.client.processManager;
    await pm.stopProcess({ name: "worker", wait: StopWait.STOPPED });
    await pm.startProcess({ name: "worker", wait: StartWait.RUNNING });
    await waitUntil(() => /Body: Str\(STOPPING -> STOPPED/.test(output), 30_000, "the stop's state change as a log record");
    assert.match(output, /corral\.program: Str\(worker\)/);
    await waitUntil(() => /Name: corral\.program\.up/.test(output) && /Name: corral\.program\.memory\.usage/.test(output), 30_000, "program metrics");
    assert.match(output, /Name: corral\.program\.cpu\.time/);
  });
});
