// Specification of live configuration in the core: the pure diff of apply.ts (which fields
// restart a program) and ApplyConfig / ad-hoc programs on a real ProcessManager.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { configReader } from "../../server/config/reader.js";
import { AlreadyExistsError, InvalidArgumentError, PermissionDeniedError, WrongStateError } from "../../server/core/errors.js";
import { diffPrograms } from "../../server/core/process/apply.js";
import { isAlive, program, sh, startManager, waitForState, waitUntil } from "../helpers/core.js";

describe("diffPrograms", () => {
  const base = [program("a", sh("sleep 30")), program("b", sh("sleep 30")), program("c", sh("sleep 30"))];

  test("sorts programs into added, changed, removed and unchanged, by name", () => {
    const next = [program("b", sh("sleep 30")), program("c", sh("sleep 31")), program("d", sh("sleep 30"))];
    const diff = diffPrograms(base, next);
    assert.deepEqual(
      diff.added.map((c) => c.name),
      ["d"],
    );
    assert.deepEqual(
      diff.changed.map((c) => c.name),
      ["c"],
    );
    assert.deepEqual(
      diff.removed.map((c) => c.name),
      ["a"],
    );
    assert.deepEqual(diff.unchanged, ["b"]);
  });

  test("a change of command, cwd, env, stdin or a probe needs a restart", () => {
    const probe = {
      check: { kind: "tcp" as const, host: "127.0.0.1", port: 1 },
      periodMs: 100,
      timeoutMs: 100,
      initialDelayMs: 0,
      successThreshold: 1,
      failureThreshold: 3,
      startTimeoutMs: 60_000,
    };
    const cases = [{ command: sh("sleep 31") }, { cwd: "/" }, { env: { A: "1" } }, { stdin: true }, { readiness: probe }, { liveness: probe }];
    for (const change of cases) {
      const [result] = diffPrograms([base[0]!], [program("a", sh("sleep 30"), change)]).changed;
      assert.equal(result?.needsRestart, true, `${Object.keys(change)[0]} should need a restart`);
    }
  });

  test("a change of labels, description, log retention, stop or restart settings does not", () => {
    const diff = diffPrograms(
      [base[0]!],
      [
        program("a", sh("sleep 30"), {
          labels: { group: "x" },
          description: "new words",
          log: { maxBytes: 1000, backups: 1 },
          stopSignal: "SIGINT",
          stopTimeoutMs: 5000,
          autorestart: "always",
          backoff: { initialMs: 1, maxMs: 2, multiplier: 1, resetAfterMs: 3 },
          autostart: true,
        }),
      ],
    );
    assert.equal(diff.changed.length, 1);
    assert.equal(diff.changed[0]!.needsRestart, false);
    assert.deepEqual(diff.changed[0]!.fields, ["autostart", "autorestart", "stop_signal", "stop_timeout", "labels", "backoff", "log", "description"]);
  });

  test("records compare without regard to key order; an empty depends_on equals none", () => {
    const a = program("a", sh("x"), { env: { A: "1", B: "2" }, dependsOn: {} });
    const b = program("a", sh("x"), { env: { B: "2", A: "1" } });
    assert.deepEqual(diffPrograms([a], [b]).unchanged, ["a"]);
  });
});

describe("ApplyConfig on a ProcessManager", () => {
  test("only the changed program gets a new run; a label change keeps the pid; removed ones stop; added autostart ones start", async () => {
    const configs = ["one", "two", "three", "four", "five"].map((name) => program(name, sh("sleep 30")));
    const f = startManager(configs);
    try {
      for (const config of configs) await f.manager.start(config.name);
      const pids = new Map(configs.map((c) => [c.name, f.manager.get(c.name).run!.pid]));
      const next = [
        program("one", sh("sleep 30")),
        program("two", sh("sleep 30"), { env: { CHANGED: "yes" } }),
        program("three", sh("sleep 30"), { labels: { tier: "x" } }),
        program("four", sh("sleep 30")),
        program("six", sh("sleep 30"), { autostart: true }),
        program("seven", sh("sleep 30"), { autostart: false }),
      ];
      const dry = await f.manager.applyConfig(next, { dryRun: true });
      assert.deepEqual(
        { added: dry.added, changed: dry.changed, removed: dry.removed, unchanged: dry.unchanged, restarted: dry.restarted },
        { added: ["six", "seven"], changed: ["two", "three"], removed: ["five"], unchanged: ["one", "four"], restarted: ["two"] },
      );
      // A dry run changes nothing.
      assert.equal(f.manager.get("two").run!.pid, pids.get("two"));
      assert.throws(() => f.manager.get("six"), /not found/);

      const applied = await f.manager.applyConfig(next);
      assert.deepEqual(applied.restarted, ["two"]);
      await waitForState(f.manager, "two", "RUNNING");
      assert.notEqual(f.manager.get("two").run!.pid, pids.get("two"), "two has a new run");
      assert.equal(isAlive(pids.get("two")!), false, "two's old run is gone");
      for (const name of ["one", "three", "four"]) assert.equal(f.manager.get(name).run!.pid, pids.get(name), `${name} kept its run`);
      assert.deepEqual(f.manager.get("three").config.labels, { tier: "x" });
      assert.throws(() => f.manager.get("five"), /not found/);
      await waitUntil(() => !isAlive(pids.get("five")!), 5000, "five's process to be gone");
      await waitForState(f.manager, "six", "RUNNING");
      assert.equal(f.manager.get("seven").state, "STOPPED");
      assert.deepEqual(
        f.manager.list().map((p) => p.name),
        ["one", "two", "three", "four", "six", "seven"],
      );
      const event = f.manager.journal.since(0).find((e) => e.detail.kind === "configApplied");
      assert.ok(event && event.detail.kind === "configApplied");
      assert.deepEqual(event.detail.restarted, ["two"]);
    } finally {
      await f.close();
    }
  });

  test("a program the user stopped stays stopped when its command changes", async () => {
    const f = startManager([program("held", sh("sleep 30"))]);
    try {
      await f.manager.start("held");
      await f.manager.stop("held");
      const applied = await f.manager.applyConfig([program("held", sh("sleep 31"))]);
      assert.deepEqual(applied.changed, ["held"]);
      assert.deepEqual(applied.restarted, []);
      assert.equal(f.manager.get("held").state, "STOPPED");
      assert.deepEqual(f.manager.get("held").config.command, sh("sleep 31"));
    } finally {
      await f.close();
    }
  });

  test("ad-hoc programs: created, marked, left alone by ApplyConfig, deleted after a stop", async () => {
    const f = startManager([program("conf", sh("sleep 30"))], { liveConfig: { allowAdhoc: true, reader: configReader } });
    try {
      const created = await f.manager.createProgram("job", { command: "sleep 30", startsecs: 0 }, { start: true });
      assert.equal(created.adhoc, true);
      assert.equal(created.config.cwd, f.home, "without a config file, relative paths are resolved in the home");
      await waitForState(f.manager, "job", "RUNNING");
      const pid = f.manager.get("job").run!.pid;
      await assert.rejects(f.manager.createProgram("job", { command: "true" }), AlreadyExistsError);
      await assert.rejects(f.manager.createProgram("dep", { command: "true", depends_on: { nope: "started" } }), InvalidArgumentError);
      await assert.rejects(f.manager.createProgram("bad", { command: "true", startsecs: "soon" }), /spec\.startsecs: bad duration "soon"/);
      const applied = await f.manager.applyConfig([]);
      assert.deepEqual(applied.removed, ["conf"]);
      assert.equal(f.manager.get("job").run!.pid, pid, "ApplyConfig left the ad-hoc program running");
      await assert.rejects(f.manager.applyConfig([program("job", sh("true"))]), InvalidArgumentError);
      await f.manager.createProgram("conf2", { command: "true" });
      await assert.rejects(f.manager.deleteProgram("nope"), /not found/);
      await f.manager.applyConfig([program("fromfile", sh("true"))]);
      await assert.rejects(f.manager.deleteProgram("fromfile"), WrongStateError);
      await f.manager.deleteProgram("job");
      assert.equal(isAlive(pid), false, "DeleteProgram stopped the run first");
      assert.deepEqual(
        f.manager.list().map((p) => [p.name, p.adhoc]),
        [
          ["fromfile", false],
          ["conf2", true],
        ],
      );
    } finally {
      await f.close();
    }
  });

  test("the daemon's policy: no ad-hoc programs unless allowed, no reload without a config file, ApplyConfig paths absolute", async () => {
    const f = startManager([program("conf", sh("sleep 30"))], { liveConfig: { reader: configReader } });
    try {
      await assert.rejects(f.manager.createProgram("job", { command: "true" }), PermissionDeniedError);
      await assert.rejects(f.manager.deleteProgram("conf"), PermissionDeniedError);
      await assert.rejects(f.manager.reloadConfig(), (error: Error) => error instanceof WrongStateError && /no file to reload/.test(error.message));
      await assert.rejects(
        f.manager.applyConfigFrom({ path: "corral.yaml" }),
        (error: Error) => error instanceof InvalidArgumentError && /absolute/.test(error.message),
      );
      await assert.rejects(f.manager.applyConfigFrom(undefined), InvalidArgumentError);
      const applied = await f.manager.applyConfigFrom({ text: "programs:\n  other:\n    command: sleep 30\n    autostart: false\n" }, { dryRun: true });
      assert.deepEqual([applied.added, applied.removed], [["other"], ["conf"]]);
    } finally {
      await f.close();
    }
  });
});
