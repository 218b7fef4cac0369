// End-to-end specification of live configuration through a real daemon: ApplyConfig (dry run,
// restarting only what changed, verified by pids), invalid configs, ReloadConfig, the
// ConfigApplied event, and ad-hoc programs (CreateProgram / DeleteProgram, allow_adhoc).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessState, RestartPolicy, Status, type ProcessInfo } from "../../client/ts/index.js";
import { isAlive, rpcError, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

type Programs = Record<string, Record<string, unknown>>;

const sleeper = (extra: Record<string, unknown> = {}) => ({ command: ["sleep", "300"], startsecs: 0, stop_timeout: "2s", ...extra });

function configYaml(programs: Programs, allowAdhoc = true): string {
  return JSON.stringify({ server: { allow_adhoc: allowAdhoc }, programs }, null, 2);
}

describe("ApplyConfig and ReloadConfig over gRPC", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;
  const five: Programs = { a: sleeper(), b: sleeper(), c: sleeper(), d: sleeper(), e: sleeper() };

  const pids = async (): Promise<Map<string, number>> => {
    const { processes } = await pm().listProcesses({});
    return new Map(processes.map((p) => [p.name, p.state === ProcessState.RUNNING ? (p.run?.pid ?? 0) : 0]));
  };

  before(async () => {
    daemon = await startTestDaemon({ configYaml: configYaml(five) });
    await waitUntil(async () => [...(await pids()).values()].every((pid) => pid > 0), 10_000, "five programs RUNNING");
  });

  after(async () => {
    await daemon?.stop();
  });

  test("an ApplyConfig that changes one of five programs restarts only that one (by pids); dry run changes nothing", async () => {
    const before = await pids();
    const changed = join(daemon.home, "changed.yaml");
    await writeFile(changed, configYaml({ ...five, c: sleeper({ env: { NEW: "1" } }), d: sleeper({ labels: { tier: "x" }, description: "now described" }) }));

    const dry = await pm().applyConfig({ source: { case: "path", value: changed }, dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.diff?.changed, ["c", "d"]);
    assert.deepEqual(dry.diff?.restarted, ["c"]);
    assert.deepEqual(dry.diff?.unchanged, ["a", "b", "e"]);
    assert.deepEqual(
      dry.diff?.changes.map((c) => [c.name, c.fields, c.needsRestart]),
      [
        ["c", ["env"], true],
        ["d", ["labels", "description"], false],
      ],
    );
    assert.deepEqual(await pids(), before, "a dry run restarts nothing");

    const { lastEventSeq } = await pm().getServerInfo({});
    const applied = await pm().applyConfig({ source: { case: "path", value: changed } });
    assert.deepEqual(applied.diff?.restarted, ["c"]);
    let diffSeen: string[] | undefined;
    // Bounded: the journal holds the event already, so the stream yields it at once.
    const watch = new AbortController();
    const timer = setTimeout(() => watch.abort(), 10_000);
    try {
      for await (const item of pm().watchEvents({ afterSeq: lastEventSeq }, { signal: watch.signal })) {
        if (item.kind.case === "event" && item.kind.value.detail.case === "configApplied") {
          diffSeen = item.kind.value.detail.value.diff?.restarted;
          break;
        }
      }
    } catch (error) {
      if (!watch.signal.aborted) throw error;
    } finally {
      clearTimeout(timer);
      watch.abort();
    }
    assert.deepEqual(diffSeen, ["c"], "ConfigApplied event with the diff");

    await waitUntil(async () => ((await pids()).get("c") ?? 0) > 0 && (await pids()).get("c") !== before.get("c"), 10_000, "c to run again");
    const after = await pids();
    for (const name of ["a", "b", "d", "e"]) assert.equal(after.get(name), before.get(name), `${name} kept its pid`);
    assert.equal(isAlive(before.get("c")!), false, "c's old run is gone");
    const { process: d } = await pm().getProcess({ name: "d" });
    assert.deepEqual(d?.labels, { tier: "x" });
  });

  test("an invalid config changes nothing and reports every problem with file and line", async () => {
    const before = await pids();
    const text = ["programs:", "  a:", "    command: [sleep, '300']", "    startsecs: soon", "  zz:", "    autorestart: sometimes", ""].join("\n");
    const error = await rpcError(pm().applyConfig({ source: { case: "text", value: text } }));
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    assert.match(error.details, /3 problems/);
    assert.match(error.details, /<ApplyConfig text>:4:\d+: programs\.a\.startsecs: bad duration "soon"/);
    assert.match(error.details, /:5:\d+: programs\.zz\.command: required/);
    assert.match(error.details, /:6:\d+: programs\.zz\.autorestart: must be one of never, on-failure, always/);
    assert.deepEqual(await pids(), before);
    const { processes } = await pm().listProcesses({});
    assert.deepEqual(
      processes.map((p) => p.name),
      ["a", "b", "c", "d", "e"],
    );

    const missing = await rpcError(pm().applyConfig({ source: { case: "path", value: join(daemon.home, "nope.yaml") } }));
    assert.equal(missing.code, Status.INVALID_ARGUMENT);
    assert.match(missing.details, /config file not found/);
    assert.equal((await rpcError(pm().applyConfig({ source: { case: "path", value: "relative.yaml" } }))).code, Status.INVALID_ARGUMENT);
  });

  test("ApplyConfig refuses a config without programs (empty text, an empty file, only a server section) unless allow_empty", async () => {
    const before = await pids();
    const emptyFile = join(daemon.home, "empty.yaml");
    await writeFile(emptyFile, "");
    const sources = [
      { case: "text", value: "" },
      { case: "text", value: "server: {allow_adhoc: true}\n" },
      { case: "path", value: emptyFile },
    ] as const;
    for (const source of sources) {
      const refused = await rpcError(pm().applyConfig({ source }));
      assert.equal(refused.code, Status.INVALID_ARGUMENT, `${source.case} ${JSON.stringify(source.value)}`);
      assert.match(refused.details, /^invalid programs=.*the config has no programs: applying it would stop and remove every program; set allow_empty/);
    }
    assert.deepEqual(await pids(), before, "nothing was stopped");
    // Said explicitly, it is allowed (a dry run here, so the programs stay for the other tests).
    const { diff } = await pm().applyConfig({ source: { case: "text", value: "" }, dryRun: true, allowEmpty: true });
    assert.deepEqual(diff?.removed, ["a", "b", "c", "d", "e"]);
  });

  test("ReloadConfig re-reads the daemon's own file: removed programs stop, added autostart ones start, stopped stay stopped", async () => {
    await pm().stopProcess({ name: "b" });
    const beforeA = (await pids()).get("a")!;
    const { process: e } = await pm().getProcess({ name: "e" });
    await writeFile(join(daemon.home, "corral.yaml"), configYaml({ a: sleeper(), b: sleeper({ command: ["sleep", "301"] }), f: sleeper() }));
    const { diff } = await pm().reloadConfig({});
    assert.deepEqual(diff?.added, ["f"]);
    assert.deepEqual(diff?.removed, ["c", "d", "e"]);
    assert.deepEqual(diff?.changed, ["b"]);
    assert.deepEqual(diff?.restarted, [], "b was stopped by the user: not restarted");
    assert.equal(isAlive(e!.run!.pid), false, "a removed program is stopped before the call returns");
    await waitUntil(async () => ((await pids()).get("f") ?? 0) > 0, 10_000, "f RUNNING");
    const { processes } = await pm().listProcesses({});
    assert.deepEqual(
      processes.map((p) => [p.name, ProcessState[p.state]]),
      [
        ["a", "RUNNING"],
        ["b", "STOPPED"],
        ["f", "RUNNING"],
      ],
    );
    assert.equal((await pids()).get("a"), beforeA);
  });
});

describe("ad-hoc programs over gRPC", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;

  before(async () => {
    daemon = await startTestDaemon({ configYaml: configYaml({ conf: sleeper() }) });
  });

  after(async () => {
    await daemon?.stop();
  });

  test("CreateProgram adds a program marked adhoc, which ApplyConfig leaves alone; DeleteProgram stops it first", async () => {
    const { process: created } = await pm().createProgram({
      spec: { name: "job", command: ["sleep", "300"], stopTimeout: { seconds: 2n }, labels: { origin: "test" } },
      start: true,
    });
    assert.equal(created?.adhoc, true);
    let job: ProcessInfo | undefined;
    await waitUntil(async () => (job = (await pm().getProcess({ name: "job" })).process)?.state === ProcessState.RUNNING, 10_000, "job RUNNING");
    assert.equal(job?.spec?.autorestart, RestartPolicy.ON_FAILURE, "unset fields take the config file's defaults");
    const pid = job!.run!.pid;

    const { diff } = await pm().applyConfig({ source: { case: "text", value: configYaml({ other: sleeper({ autostart: false }) }) } });
    assert.deepEqual(diff?.removed, ["conf"]);
    assert.deepEqual(diff?.added, ["other"]);
    const { processes } = await pm().listProcesses({});
    assert.deepEqual(
      processes.map((p) => [p.name, p.adhoc]),
      [
        ["other", false],
        ["job", true],
      ],
    );
    assert.ok(isAlive(pid), "ApplyConfig left the ad-hoc program running");

    assert.equal((await rpcError(pm().createProgram({ spec: { name: "job", command: ["true"] } }))).code, Status.ALREADY_EXISTS);
    assert.equal((await rpcError(pm().deleteProgram({ name: "other" }))).code, Status.FAILED_PRECONDITION);
    assert.equal((await rpcError(pm().deleteProgram({ name: "nope" }))).code, Status.NOT_FOUND);

    await pm().deleteProgram({ name: "job" });
    assert.equal(isAlive(pid), false, "DeleteProgram stopped the run");
    assert.equal((await rpcError(pm().getProcess({ name: "job" }))).code, Status.NOT_FOUND);
  });

  test("a bad spec is INVALID_ARGUMENT naming every wire field, checked by the config's rules", async () => {
    const error = await rpcError(
      pm().createProgram({ spec: { name: "bad name", stopSignal: "SIGNOPE", exitcodes: [300], readiness: { period: { seconds: 1n } } } }),
    );
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    for (const field of ["spec.name", "spec.command", "spec.stop_signal", "spec.exitcodes.0", "spec.readiness"]) {
      assert.ok(error.details.includes(`${field}: `), `${field} in: ${error.details}`);
    }
    assert.match(error.details, /spec\.command: required/);
    assert.match(error.details, /spec\.readiness: needs one check: tcp, exec, log or grpc/);
  });
});

describe("without allow_adhoc, and with the built-in example", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;

  before(async () => {
    daemon = await startTestDaemon({ builtinExample: true });
  });

  after(async () => {
    await daemon?.stop();
  });

  test("CreateProgram and DeleteProgram are PERMISSION_DENIED", async () => {
    const created = await rpcError(pm().createProgram({ spec: { name: "job", command: ["sleep", "1"] } }));
    assert.equal(created.code, Status.PERMISSION_DENIED);
    assert.match(created.details, /allow_adhoc/);
    assert.equal((await rpcError(pm().deleteProgram({ name: "ticker" }))).code, Status.PERMISSION_DENIED);
  });

  test("ReloadConfig is FAILED_PRECONDITION: there is no file", async () => {
    const error = await rpcError(pm().reloadConfig({}));
    assert.equal(error.code, Status.FAILED_PRECONDITION);
    assert.match(error.details, /built-in example/);
  });
});
