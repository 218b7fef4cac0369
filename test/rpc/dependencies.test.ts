// End-to-end specification of depends_on through a real daemon: a start pulls its dependencies
// in first, StartAll follows the graph, StopAll goes dependents first, a FATAL dependency fails
// its dependents by name, and `corral deps` shows the graph.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ClientError, ProcessState, StartWait, Status, type Event } from "../../client/ts/index.js";
import { journalEvents, startTestDaemon, type TestDaemon } from "../helpers/daemon.js";
import { corral } from "../helpers/cli.js";

describe("depends_on over gRPC", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;
  const base = { autostart: false, stop_timeout: "2s", startsecs: "100ms" };

  before(async () => {
    daemon = await startTestDaemon({
      programs: {
        // A 3-level chain: api needs cache ready, cache needs migrate completed successfully.
        api: { ...base, command: ["sleep", "60"], depends_on: { cache: "ready" } },
        cache: { ...base, command: ["sleep", "60"], depends_on: { migrate: "completed_successfully" }, readiness: { exec: ["true"], period: "100ms" } },
        migrate: { ...base, command: ["/bin/sh", "-c", "sleep 0.3"], startsecs: 0, autorestart: "never" },
        broken: { ...base, command: ["/bin/sh", "-c", "exit 3"], startsecs: "500ms", startretries: 0 },
        needy: { ...base, command: ["sleep", "60"], depends_on: { broken: "ready" } },
      },
    });
  });

  after(async () => {
    await daemon?.stop();
  });

  const journal = () => journalEvents(daemon);

  const seqOf = (events: Event[], program: string, to: ProcessState, after = 0n) =>
    events.find((e) => e.program === program && e.seq > after && e.detail.case === "stateChanged" && e.detail.value.to === to)?.seq;

  test("starting a program starts its dependency chain first, in order", async () => {
    const { lastEventSeq: mark } = await pm().getServerInfo({});
    const { process } = await pm().startProcess({ name: "api", wait: StartWait.RUNNING, timeout: { seconds: 20n } });
    assert.equal(process?.state, ProcessState.RUNNING);
    const events = await journal();
    const migrateExited = seqOf(events, "migrate", ProcessState.EXITED, mark);
    const cacheStarting = seqOf(events, "cache", ProcessState.STARTING, mark);
    const cacheRunning = seqOf(events, "cache", ProcessState.RUNNING, mark);
    const apiStarting = seqOf(events, "api", ProcessState.STARTING, mark);
    assert.ok(migrateExited && cacheStarting && cacheRunning && apiStarting, "all three ran");
    assert.ok(migrateExited < cacheStarting, "cache starts after migrate completed");
    assert.ok(cacheRunning < apiStarting, "api starts after cache is ready");
  });

  test("StopAll stops dependents before their dependencies", async () => {
    const { lastEventSeq: mark } = await pm().getServerInfo({});
    const { results } = await pm().stopAll({});
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results.map((r) => [r.name, r.error])),
    );
    const events = await journal();
    const apiStopped = seqOf(events, "api", ProcessState.STOPPED, mark);
    const cacheStopping = seqOf(events, "cache", ProcessState.STOPPING, mark);
    assert.ok(apiStopped && cacheStopping && apiStopped < cacheStopping, "api is stopped before cache is signalled");
  });

  test("StartAll follows the graph: every dependency is up before its dependent starts", async () => {
    const { lastEventSeq: mark } = await pm().getServerInfo({});
    const { results } = await pm().startAll({ selector: { names: ["api", "cache", "migrate"] }, wait: StartWait.RUNNING, timeout: { seconds: 20n } });
    const byName = new Map(results.map((r) => [r.name, r]));
    assert.equal(byName.get("api")?.ok, true, byName.get("api")?.error);
    const events = await journal();
    const migrateExited = seqOf(events, "migrate", ProcessState.EXITED, mark);
    const cacheStarting = seqOf(events, "cache", ProcessState.STARTING, mark);
    const cacheRunning = seqOf(events, "cache", ProcessState.RUNNING, mark);
    const apiStarting = seqOf(events, "api", ProcessState.STARTING, mark);
    assert.ok(migrateExited && cacheStarting && migrateExited < cacheStarting);
    assert.ok(cacheRunning && apiStarting && cacheRunning < apiStarting);
    await pm().stopAll({});
  });

  test("a dependency that goes FATAL fails its dependent with an error naming it", async () => {
    try {
      await pm().startProcess({ name: "needy", wait: StartWait.RUNNING, timeout: { seconds: 20n } });
      assert.fail("expected the start to fail");
    } catch (error) {
      assert.ok(error instanceof ClientError, String(error));
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      assert.match(error.details, /needy not started: its dependency broken is FATAL/);
    }
    const { process } = await pm().getProcess({ name: "needy" });
    assert.equal(process?.state, ProcessState.STOPPED);
  });

  test("`corral deps` shows the graph; --json gives it as data", async () => {
    const run = (args: string[]) => corral(args, daemon.address);
    const text = await run(["deps"]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^api\n {2}└─ cache \(ready\)\n {4}└─ migrate \(completed_successfully\)\n/m);
    assert.match(text.stdout, /^needy\n {2}└─ broken \(ready\)$/m);
    const json = await run(["deps", "--json"]);
    const parsed = JSON.parse(json.stdout) as { name: string; dependsOn: { name: string; condition: string }[] }[];
    assert.deepEqual(parsed.find((p) => p.name === "api")?.dependsOn, [{ name: "cache", condition: "ready" }]);
  });

  test("a dependency cycle is a config error naming the cycle", async () => {
    const { parseConfig } = await import("../../server/config/index.js");
    assert.throws(
      () => parseConfig("programs:\n  a: {command: x, depends_on: {b: ready}}\n  b: {command: x, depends_on: [a]}\n", { file: "c.yaml", baseDir: "/tmp" }),
      /c\.yaml:2:\d+: programs\.a\.depends_on: dependency cycle: a -> b -> a/,
    );
  });
});
