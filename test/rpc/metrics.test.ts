// The Prometheus endpoint of a real daemon (metrics.listen): scraped over HTTP, checked line by
// line against the exposition grammar and parsed with parse-prometheus-text-format.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { TaskHandle, TaskState } from "../../client/ts/index.js";
import { metricsUrl, repoRoot, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");

const config = (listen: string) => `
metrics: {listen: "${listen}"}
tasks: {modules: [${JSON.stringify(fixtureModule)}]}
programs:
  web: {command: ["sleep", "600"], startsecs: 0s, stop_timeout: 2s}
  idle: {command: ["sleep", "600"], autostart: false}
`;

// One line of the text format: a comment, or name{labels} value [timestamp].
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE_LINE = new RegExp(String.raw`^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:${LABEL}(?:,${LABEL})*)?\})? (?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[+-]Inf)(?: -?\d+)?$`);
const COMMENT_LINE = /^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped))$/;

describe("Prometheus metrics endpoint", () => {
  let daemon: TestDaemon;
  let url: string;

  before(async () => {
    daemon = await startTestDaemon({ configYaml: config("127.0.0.1:0") });
    url = await metricsUrl(daemon);
    await waitUntil(async () => (await daemon.client.processManager.getProcess({ name: "web" })).process?.run?.pid !== undefined, 10_000, "web running");
  });
  after(async () => {
    await daemon?.stop();
  });

  async function scrape(): Promise<{ text: string; families: Map<string, ParsedFamily> }> {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    return { text, families };
  }

  test("the endpoint listens on loopback only and serves valid exposition text", async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const { text, families } = await scrape();
    for (const line of text.trimEnd().split("\n")) {
      assert.ok(SAMPLE_LINE.test(line) || COMMENT_LINE.test(line), `not exposition format: ${line}`);
    }
    for (const family of families.values()) {
      assert.ok(family.name.startsWith("corral_"), family.name);
      assert.notEqual(family.type, "UNTYPED", `${family.name} has a TYPE`);
      if (family.type === "COUNTER") assert.ok(family.name.endsWith("_total"), `counter ${family.name} ends in _total`);
      for (const metric of family.metrics) if (metric.value !== undefined) assert.ok(Number.isFinite(Number(metric.value)), `${family.name} ${metric.value}`);
    }
  });

  test("per-program up, state, memory and CPU; the daemon's own figures", async () => {
    const { families } = await scrape();
    const value = (name: string, labels: Record<string, string>) =>
      Number(families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);
    assert.equal(value("corral_program_up", { program: "web" }), 1);
    assert.equal(value("corral_program_up", { program: "idle" }), 0);
    assert.equal(value("corral_program_state", { program: "web", state: "RUNNING" }), 1);
    assert.equal(value("corral_program_state", { program: "idle", state: "STOPPED" }), 1);
    assert.ok(value("corral_program_resident_memory_bytes", { program: "web" }) > 100_000);
    assert.ok(value("corral_program_cpu_seconds_total", { program: "web" }) >= 0);
    assert.ok(value("corral_program_open_fds", { program: "web" }) >= 3);
    assert.ok(Math.abs(value("corral_program_start_time_seconds", { program: "web" }) - Date.now() / 1000) < 120);
    assert.ok(value("corral_daemon_resident_memory_bytes", {}) > 10_000_000);
    assert.ok(value("corral_daemon_heap_used_bytes", {}) > 0);
    assert.ok(value("corral_daemon_external_memory_bytes", {}) >= value("corral_daemon_array_buffers_bytes", {}));
    assert.ok(value("corral_daemon_array_buffers_bytes", {}) >= 0);
    assert.ok(value("corral_daemon_open_fds", {}) > 0);
    assert.ok(value("corral_daemon_event_loop_lag_seconds", {}) >= 0);
  });

  test("per task: its state (one series per state, labelled with its type), lock, and the signals published", async () => {
    const tr = daemon.client.taskRunner;
    const sleeper = new TaskHandle(tr, "metrics-sleeper");
    await sleeper.create("sleeper");
    await sleeper.start();
    await sleeper.lock();
    const quick = new TaskHandle(tr, "metrics-quick");
    await quick.create("quick");
    await quick.start();
    assert.equal((await quick.join(10_000)).state, TaskState.COMPLETED);
    await new TaskHandle(tr, "metrics-idle").create("counter");
    try {
      const { families } = await scrape();
      const state = families.get("corral_task_state");
      assert.equal(state?.type, "GAUGE");
      const current = (task: string) => state!.metrics.filter((m) => m.labels?.task === task && Number(m.value) === 1).map((m) => `${m.labels?.type}:${m.labels?.state}`);
      assert.deepEqual(current("metrics-sleeper"), ["sleeper:running"]);
      assert.deepEqual(current("metrics-quick"), ["quick:completed"]);
      assert.deepEqual(current("metrics-idle"), ["counter:created"]);
      assert.equal(state!.metrics.filter((m) => m.labels?.task === "metrics-idle").length, 6, "one series per state");
      const locked = (task: string) => Number(families.get("corral_task_locked")?.metrics.find((m) => m.labels?.task === task)?.value);
      assert.equal(locked("metrics-sleeper"), 1);
      assert.equal(locked("metrics-quick"), 0);
      const signals = families.get("corral_task_signals_published_total");
      assert.equal(signals?.type, "COUNTER");
      // created, started, locked, status_updated, completed, ... at least these.
      assert.ok(Number(signals!.metrics[0]?.value) >= 6);
    } finally {
      await sleeper.remove(10_000);
      await quick.remove();
      await new TaskHandle(tr, "metrics-idle").remove();
    }
    const { families } = await scrape();
    assert.ok(!(families.get("corral_task_state")?.metrics ?? []).some((m) => m.labels?.task?.startsWith("metrics-")), "removed tasks leave the scrape");
  });

  test("gRPC calls are counted by method and code, with a latency histogram", async () => {
    await daemon.client.processManager.getProcess({ name: "web" });
    await daemon.client.processManager.getProcess({ name: "nope" }).catch(() => undefined);
    const { text, families } = await scrape();
    const handled = families.get("corral_grpc_server_handled_total")!;
    const handledCount = (code: string) => Number(handled.metrics.find((m) => m.labels?.method === "/corral.v1.ProcessManager/GetProcess" && m.labels?.code === code)?.value ?? 0);
    assert.ok(handledCount("OK") >= 1);
    assert.ok(handledCount("NOT_FOUND") >= 1);
    assert.equal(families.get("corral_grpc_server_handling_seconds")?.type, "HISTOGRAM");
    // parse-prometheus-text-format drops the labels, sum and count of labelled histogram
    // series, so the buckets of one method are read from the checked lines themselves.
    const method = 'method="/corral.v1.ProcessManager/GetProcess"';
    const lines = text.split("\n");
    const buckets = lines
      .filter((line) => line.startsWith(`corral_grpc_server_handling_seconds_bucket{${method},`))
      .map((line) => {
        const [, le, n] = /le="([^"]+)"\} (\S+)$/.exec(line)!;
        return [le === "+Inf" ? Infinity : Number(le), Number(n)] as const;
      });
    assert.ok(buckets.length > 2);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i]![0] > buckets[i - 1]![0], "increasing bounds");
      assert.ok(buckets[i]![1] >= buckets[i - 1]![1], "cumulative counts");
    }
    assert.equal(buckets.at(-1)![0], Infinity);
    const count = Number(/ (\S+)$/.exec(lines.find((line) => line.startsWith(`corral_grpc_server_handling_seconds_count{${method}}`))!)![1]);
    assert.equal(buckets.at(-1)![1], count);
    assert.ok(count >= 2);
  });

  test("a metrics.listen beyond loopback is refused at start", async () => {
    await assert.rejects(startTestDaemon({ configYaml: config("0.0.0.0:0") }), /loopback/);
  });
});
