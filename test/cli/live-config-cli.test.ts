// End-to-end tests of `corral apply`, `corral reload`, `corral create` and `corral delete`: the
// real bin/corral.js against a real daemon, asserting on output, exit codes and pids.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { isAlive, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral } from "../helpers/cli.js";

const sleeper = (extra: Record<string, unknown> = {}) => ({ command: ["sleep", "300"], startsecs: 0, stop_timeout: "2s", ...extra });
const yaml = (programs: Record<string, unknown>) => JSON.stringify({ server: { allow_adhoc: true }, programs }, null, 2);

describe("corral apply / reload / create / delete", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;
  const pidOf = async (name: string) => {
    const { process } = await pm().getProcess({ name });
    return process?.state === ProcessState.RUNNING ? (process.run?.pid ?? 0) : 0;
  };

  before(async () => {
    daemon = await startTestDaemon({ configYaml: yaml({ web: sleeper(), worker: sleeper() }) });
    await waitUntil(async () => (await pidOf("web")) > 0 && (await pidOf("worker")) > 0, 10_000, "both RUNNING");
  });

  after(async () => {
    await daemon?.stop();
  });

  test("apply --dry-run prints the diff and changes nothing; apply restarts only the changed program", async () => {
    const file = join(daemon.home, "next.yaml");
    await writeFile(
      file,
      yaml({ web: sleeper({ env: { PORT: "8080" } }), worker: sleeper({ labels: { tier: "back" } }), cron: sleeper({ autostart: false }) }),
    );
    const [web, worker] = [await pidOf("web"), await pidOf("worker")];

    const dry = await corral(["apply", file, "--dry-run"], daemon.address);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^\+ cron\s+added$/m);
    assert.match(dry.stdout, /^~ web\s+changed: env \(would restart\)$/m);
    assert.match(dry.stdout, /^~ worker\s+changed: labels$/m);
    assert.match(dry.stdout, /dry run: nothing was changed/);
    assert.equal(await pidOf("web"), web);

    const applied = await corral(["apply", file], daemon.address);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /^~ web\s+changed: env \(restarted\)$/m);
    await waitUntil(async () => ![0, web].includes(await pidOf("web")), 10_000, "web to run again");
    assert.equal(await pidOf("worker"), worker, "worker kept its run");
    assert.equal(isAlive(web), false);
  });

  test("apply of an invalid file exits 2 and lists every problem with file and line", async () => {
    const file = join(daemon.home, "bad.yaml");
    await writeFile(file, "programs:\n  web:\n    command: [sleep, '1']\n    stop_timeout: never\n    colour: blue\n");
    const result = await corral(["apply", file], daemon.address);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid config, nothing was changed \(2 problems\)/);
    assert.match(result.stderr, /bad\.yaml:4:\d+: programs\.web\.stop_timeout: bad duration/);
    assert.match(result.stderr, /bad\.yaml:5:\d+: programs\.web\.colour: unknown key/);
  });

  test("apply of a config without programs asks for --allow-empty and changes nothing", async () => {
    const before = (await pm().listProcesses({})).processes.map((p) => p.name);
    assert.ok(before.length > 0);
    for (const text of ["", "# nothing yet\n", "programs:\n", "server: {allow_adhoc: false}\n"]) {
      const file = join(daemon.home, "empty.yaml");
      await writeFile(file, text);
      const refused = await corral(["apply", file], daemon.address);
      assert.equal(refused.code, 2, JSON.stringify(text));
      assert.match(refused.stderr, /empty\.yaml has no programs: applying it would stop and remove every program.*--allow-empty/);
    }
    assert.deepEqual(
      (await pm().listProcesses({})).processes.map((p) => p.name),
      before,
    );
    const allowed = await corral(["apply", join(daemon.home, "empty.yaml"), "--allow-empty", "--dry-run"], daemon.address);
    assert.equal(allowed.code, 0, allowed.stderr);
    for (const name of before) assert.match(allowed.stdout, new RegExp(`^- ${name}\\s+removed$`, "m"));
  });

  test("reload applies the daemon's own file", async () => {
    await writeFile(join(daemon.home, "corral.yaml"), yaml({ web: sleeper({ env: { PORT: "8080" } }) }));
    const result = await corral(["reload"], daemon.address);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^- cron\s+removed \(stopped\)$/m);
    assert.match(result.stdout, /^- worker\s+removed \(stopped\)$/m);
    assert.match(result.stdout, /1 unchanged: web/);
  });

  test("create NAME -- CMD starts an ad-hoc program; delete stops and removes it", async () => {
    const created = await corral(["create", "job", "--label", "origin=cli", "--", "sleep", "300"], daemon.address);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /job: created, starting \(pid \d+\)/);
    await waitUntil(async () => (await pidOf("job")) > 0, 10_000, "job RUNNING");
    const pid = await pidOf("job");
    const { process } = await pm().getProcess({ name: "job" });
    assert.equal(process?.adhoc, true);
    assert.deepEqual(process?.labels, { origin: "cli" });

    const refused = await corral(["delete", "web"], daemon.address);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /FAILED_PRECONDITION: web comes from the config file/);

    const deleted = await corral(["delete", "job"], daemon.address);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /job: stopped and deleted/);
    assert.equal(isAlive(pid), false);
  });
});

describe("corral start --ready and the READY column", () => {
  let daemon: TestDaemon;

  before(async () => {
    daemon = await startTestDaemon({
      programs: {
        // Ready only once it has printed "serving", about a second after its spawn.
        slow: { command: "sleep 1; echo serving; exec sleep 300", autostart: false, stop_timeout: "2s", readiness: { log: "serving", period: "100ms" } },
      },
    });
  });

  after(async () => {
    await daemon?.stop();
  });

  test("start --ready returns once the probe passed; status shows READY yes", async () => {
    const t0 = Date.now();
    const started = await corral(["start", "slow", "--ready"], daemon.address);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /slow: started and ready \(pid \d+\)/);
    assert.ok(Date.now() - t0 >= 900, "returned before the program printed its line");
    const status = await corral(["status"], daemon.address);
    assert.match(status.stdout, /^NAME\s+STATE\s+READY\s+PID/);
    assert.match(status.stdout, /^slow\s+RUNNING\s+yes\s+\d+/m);
    const { process } = await daemon.client.processManager.getProcess({ name: "slow" });
    assert.equal(process?.ready, true);
  });
});
