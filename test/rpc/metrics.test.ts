// The Prometheus endpoint of a real daemon (metrics.listen): scraped over HTTP, checked line by
// line against the exposition grammar, parsed with parse-prometheus-text-format, and checked by
// Prometheus's own promtool.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { TaskHandle, TaskState } from "../../client/ts/index.js";
import { journalEvents, metricsUrl, repoRoot, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");

const config = (listen: string) => `
metrics: {listen: "${listen}"}
tasks: {modules: [${JSON.stringify(fixtureModule)}]}
server: {host_name: lab1}
programs:
  web: {command: ["sleep", "600"], startsecs: 0s, stop_timeout: 2s, labels: {tier: front, "team.name": lab}}
  idle: {command: ["sleep", "600"], autostart: false}
  flaky: {command: ["sh", "-c", "exit 3"], autostart: false, autorestart: on-failure, startsecs: 0s, startretries: 100, backoff: {initial: 10ms, max: 10ms}}
  patient: {command: ["sh", "-c", "exit 3"], autostart: false, autorestart: on-failure, startsecs: 0s, backoff: {initial: 1h, max: 1h}}
  away: {command: ["sleep", "600"], host: lab2}
`;

/** The labels of a sample line, parsed (parse-prometheus-text-format drops those of histograms). */
function sampleLabels(line: string): Record<string, string> {
  const inner = /^[^{ ]+\{(.*)\} \S+$/.exec(line)?.[1] ?? "";
  return Object.fromEntries([...inner.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
}

// One line of the text format: a comment, or name{labels} value [timestamp].
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE_LINE = new RegExp(
  String.raw`^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:${LABEL}(?:,${LABEL})*)?\})? (?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[+-]Inf)(?: -?\d+)?$`,
);
const COMMENT_LINE = /^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped))$/;

/** Why the promtool test cannot run here, or false (npm test installs Debian's prometheus package: scripts/install-system-tools.sh). */
function promtoolMissing(): string | false {
  return spawnSync("promtool", ["--version"]).status === 0 ? false : "promtool is not installed (apt-get install prometheus)";
}

function families(all: Map<string, ParsedFamily>, name: string): ParsedFamily {
  const family = all.get(name);
  assert.ok(family, `${name} is exported`);
  return family;
}

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
      if (line === "") continue; // the format ignores empty lines (prom-client puts one between families)
      assert.ok(SAMPLE_LINE.test(line) || COMMENT_LINE.test(line), `not exposition format: ${line}`);
    }
    for (const family of families.values()) {
      assert.ok(/^(corral_|grpc_server_|process_|nodejs_)/.test(family.name), family.name);
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
    assert.ok(value("nodejs_eventloop_lag_p99_seconds", {}) >= 0);
    assert.ok(value("process_resident_memory_bytes", {}) > 10_000_000);
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
      const current = (task: string) =>
        state!.metrics.filter((m) => m.labels?.task === task && Number(m.value) === 1).map((m) => `${m.labels?.type}:${m.labels?.state}`);
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

  test("gRPC calls are counted with go-grpc-prometheus's names and labels, with a latency histogram", async () => {
    await daemon.client.processManager.getProcess({ name: "web" });
    await daemon.client.processManager.getProcess({ name: "nope" }).catch(() => undefined);
    for await (const item of daemon.client.processManager.watchEvents({})) if (item) break; // one server stream, ended by the client
    const { text, families } = await scrape();
    const getProcess = { grpc_type: "unary", grpc_service: "corral.v1.ProcessManager", grpc_method: "GetProcess" };
    const matches = (labels: Record<string, string> | undefined, want: Record<string, string>) => Object.entries(want).every(([k, v]) => labels?.[k] === v);
    const handledCount = (grpc_code: string) =>
      Number(families.get("grpc_server_handled_total")!.metrics.find((m) => matches(m.labels, { ...getProcess, grpc_code }))?.value ?? 0);
    assert.ok(handledCount("OK") >= 1);
    assert.ok(handledCount("NOT_FOUND") >= 1);
    assert.ok(Number(families.get("grpc_server_started_total")!.metrics.find((m) => matches(m.labels, getProcess))?.value) >= 2);
    assert.ok(
      families.get("grpc_server_started_total")!.metrics.some((m) => m.labels?.grpc_type === "server_stream"),
      "WatchEvents is counted as a server stream",
    );
    assert.equal(families.get("grpc_server_handling_seconds")?.type, "HISTOGRAM");
    const lines = text.split("\n");
    const buckets = lines
      .filter((line) => line.startsWith("grpc_server_handling_seconds_bucket{") && matches(sampleLabels(line), getProcess))
      .map((line) => {
        const le = sampleLabels(line).le!;
        return [le === "+Inf" ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(" ") + 1))] as const;
      });
    assert.ok(buckets.length > 2);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i]![0] > buckets[i - 1]![0], "increasing bounds");
      assert.ok(buckets[i]![1] >= buckets[i - 1]![1], "cumulative counts");
    }
    assert.equal(buckets.at(-1)![0], Infinity);
    const countLine = lines.find((line) => line.startsWith("grpc_server_handling_seconds_count{") && matches(sampleLabels(line), getProcess))!;
    const count = Number(countLine.slice(countLine.lastIndexOf(" ") + 1));
    assert.equal(buckets.at(-1)![1], count);
    assert.ok(count >= 2);
  });

  test("build info, and program info with host, remote and the config's labels", async () => {
    const { families } = await scrape();
    const build = families.get("corral_build_info")!.metrics[0]!;
    assert.match(build.labels!.version!, /^\d+\.\d+\.\d+/);
    assert.equal(build.labels!.node_version, process.version);
    const info = (program: string) => families.get("corral_program_info")!.metrics.find((m) => m.labels?.program === program)?.labels;
    assert.deepEqual(info("web"), { program: "web", host: "lab1", remote: "false", adhoc: "false", label_tier: "front", label_team_name: "lab" });
    assert.equal(info("away")?.remote, "true");
    assert.equal(info("away")?.host, "lab2");
  });

  test("a program of another host is not exported as down: its own host's daemon exports it", async () => {
    const { families } = await scrape();
    for (const name of ["corral_program_up", "corral_program_state", "corral_program_ready", "corral_program_restarts"]) {
      const programs = families.get(name)!.metrics.map((m) => m.labels?.program);
      assert.ok(programs.includes("web"), `${name} has web`);
      assert.ok(!programs.includes("away"), `${name} leaves out the remote program`);
      assert.ok(
        families.get(name)!.metrics.every((m) => m.labels?.host === "lab1"),
        `${name} carries the host`,
      );
    }
  });

  test("restarts are a counter that a user's start does not reset; exits are counted by reason", async () => {
    const pm = daemon.client.processManager;
    const { families: before } = await scrape();
    const restartsOf = (families: Map<string, ParsedFamily>) =>
      Number(families.get("corral_program_restarts_total")?.metrics.find((m) => m.labels?.program === "flaky")?.value ?? 0);
    const exitsOf = (families: Map<string, ParsedFamily>) =>
      Number(
        families
          .get("corral_program_exits_total")
          ?.metrics.find((m) => m.labels?.program === "flaky" && m.labels?.reason === "exit_nonzero" && m.labels?.expected === "false")?.value ?? 0,
      );
    assert.equal(restartsOf(before), 0);
    await pm.startProcess({ name: "flaky" }).catch(() => undefined);
    // The counter counts restarts that happened (a new run started); the snapshot's count also
    // has one scheduled and not yet run, which a stop would cancel: wait on the counter itself.
    let first = before;
    await waitUntil(async () => restartsOf((first = (await scrape()).families)) >= 3, 20_000, "restarts_total to count three restarts");
    await pm.stopProcess({ name: "flaky" }).catch(() => undefined);
    const afterFirst = restartsOf(first);
    assert.ok(afterFirst >= 3, `restarts_total ${afterFirst}`);
    assert.ok(exitsOf(first) >= afterFirst, "every restart followed an exit");
    // A user's start resets the gauge (restarts since the last user start), never the counter.
    await pm.startProcess({ name: "flaky" }).catch(() => undefined);
    let second = first;
    await waitUntil(async () => restartsOf((second = (await scrape()).families)) > afterFirst, 20_000, "restarts_total to go on");
    await pm.stopProcess({ name: "flaky" }).catch(() => undefined);
    assert.ok(restartsOf(second) > afterFirst, `restarts_total went on from ${afterFirst}: ${restartsOf(second)}`);
    assert.equal(families(second, "corral_program_restarts_total").type, "COUNTER");
  });

  test("a restart is counted when it runs: the snapshot's restarts and restarts_total agree, a cancelled one is in neither", async () => {
    const pm = daemon.client.processManager;
    await pm.startProcess({ name: "patient" }).catch(() => undefined);
    // It exits at once each time; a restart is pending (due in an hour) once the backoff has grown.
    await waitUntil(async () => (await pm.getProcess({ name: "patient" })).process?.nextRetryAt !== undefined, 10_000, "a restart to be scheduled");
    await pm.stopProcess({ name: "patient" });
    const { process } = await pm.getProcess({ name: "patient" });
    assert.equal(process?.nextRetryAt, undefined, "the stop cancelled the pending restart");
    // Every run after the user's start was an automatic restart.
    const runs = (await journalEvents(daemon)).filter((e) => e.program === "patient" && e.detail.case === "processStarted").length;
    assert.ok(runs >= 1);
    assert.equal(process?.restarts, runs - 1, "restarts counts the restarts that ran, not the one cancelled");
    const restartsTotal = async () =>
      Number(families((await scrape()).families, "corral_program_restarts_total").metrics.find((m) => m.labels?.program === "patient")?.value ?? 0);
    // The counter follows the journal a moment later; it must reach the same count and stay there.
    await waitUntil(async () => (await restartsTotal()) >= runs - 1, 10_000, "restarts_total to count the restarts");
    assert.equal(await restartsTotal(), runs - 1);
  });

  test("the Grafana dashboard (examples/grafana/corral.json) queries only metrics a live daemon exports", async () => {
    const dashboard = readFileSync(join(repoRoot, "examples/grafana/corral.json"), "utf8");
    const queried = new Set(dashboard.match(/\b(?:corral|grpc_server|process|nodejs)_[a-zA-Z0-9_]+/g) ?? []);
    assert.ok(queried.size >= 12, `the dashboard queries ${[...queried].join(", ")}`);
    const { text } = await scrape();
    const declared = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const exported = (name: string) => declared.has(name) || declared.get(name.replace(/_(?:bucket|sum|count)$/, "")) === "histogram";
    assert.deepEqual(
      [...queried].filter((name) => !exported(name)),
      [],
      "queried but not exported",
    );
  });

  test("promtool check metrics finds nothing wrong with a scrape", { skip: promtoolMissing() }, async () => {
    const { text } = await scrape();
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
    assert.equal(`${check.stdout}${check.stderr}`.trim(), "", "no lint warnings");
  });

  test("a metrics.listen beyond loopback is refused at start", async () => {
    await assert.rejects(startTestDaemon({ configYaml: config("0.0.0.0:0") }), /loopback/);
  });
});
