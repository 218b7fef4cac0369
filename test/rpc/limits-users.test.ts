// Per-program limits, max_memory and users, with real processes and a real daemon: a limit whose
// cgroup controller the host lacks is refused wherever a program comes in (config load,
// ApplyConfig, CreateProgram, `corral check`) with the field, value and the missing controller;
// where the host has it, it is written into the run's cgroup and an OOM kill is its own exit.
// max_memory restarts a run whose RSS passes it (no controller needed). user/uid/gid run a
// program as another account when the daemon is root, and are refused when it is not.
import assert from "node:assert/strict";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { errorDetails, LogStream, ProcessState, Status, type Event, type ProcessInfo } from "../../client/ts/index.js";
import { probeLimitControllers } from "../../server/core/os/cgroup.js";
import { runCorral } from "../helpers/cli.js";
import {
  journalEvents,
  metricsUrl,
  rpcError,
  SLOW_START_MS,
  spawnDaemon,
  startTestDaemon,
  waitUntil,
  type DaemonProcess,
  type Exit,
  type TestDaemon,
} from "../helpers/daemon.js";

// The daemon runs in this process's cgroup, so it finds what this probe finds.
const host = probeLimitControllers({ home: "" });
const missing = (["memory", "cpu", "pids"] as const).filter((controller) => !host.controllers.includes(controller));
const isRoot = process.geteuid?.() === 0;
const NOBODY = 65534;

/** limits using every controller this host lacks, as a config file writes them. */
function missingLimits(): Record<string, unknown> {
  const values = { memory: "512MiB", cpu: 1.5, pids: 200 };
  return Object.fromEntries(missing.map((controller) => [controller, values[controller]]));
}

const sleeper = (extra: Record<string, unknown> = {}) => ({ command: ["sleep", "300"], startsecs: "100ms", stop_timeout: "2s", ...extra });

/** The daemon's exit, or a failure (and the daemon killed, by its pid) if it is still running after SLOW_START_MS: a refused config must end it. */
async function refusedExit(daemon: DaemonProcess): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), SLOW_START_MS)));
  const exit = await Promise.race([daemon.exited, deadline]);
  clearTimeout(timer);
  if (exit === undefined) {
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    assert.fail(`the daemon started instead of refusing its config:\n${daemon.output()}`);
  }
  return exit;
}

async function stdoutOf(daemon: TestDaemon, name: string, stream = LogStream.STDOUT): Promise<string> {
  const response = await daemon.client.processManager.readLogs({ name, stream, offset: 0n });
  return Buffer.from(response.chunk?.data ?? new Uint8Array()).toString("utf8");
}

/** The run's cgroup directory ("" without cgroups): run-<id> under the daemon's subtree. */
async function cgroupOf(daemon: TestDaemon, info: ProcessInfo): Promise<string> {
  const root = (await daemon.client.processManager.getServerInfo({})).containment?.cgroupRoot ?? "";
  return root === "" ? "" : join(root, `run-${info.run!.runId}`);
}

async function running(daemon: TestDaemon, name: string): Promise<ProcessInfo> {
  let info: ProcessInfo | undefined;
  await waitUntil(
    async () => (info = (await daemon.client.processManager.getProcess({ name })).process)?.state === ProcessState.RUNNING,
    20_000,
    `${name} RUNNING`,
  );
  return info!;
}

test("limits the host cannot apply are refused at load, by ApplyConfig, CreateProgram and corral check, naming field, value and controller", {
  timeout: 120_000,
  skip: missing.length === 0 ? "this host offers memory, cpu and pids to cgroup v2" : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-limits-"));
  const file = join(dir, "corral.yaml");
  writeFileSync(file, JSON.stringify({ programs: { web: sleeper({ limits: missingLimits() }) } }));
  const first = missing[0]!;
  const rule = `cannot be applied on this host \\(it needs [a-z.]+ of the ${first} cgroup v2 controller\\): .*${first}`;
  const why = new RegExp(`limits\\.${first}: .*${rule}`);
  try {
    // At load: the daemon exits 2 before it starts anything.
    const refused = spawnDaemon(["--home", join(dir, "home"), "--config", file]);
    assert.equal((await refusedExit(refused)).code, 2, refused.output());
    for (const controller of missing) assert.match(refused.output(), new RegExp(`programs\\.web\\.limits\\.${controller}: `), refused.output());
    assert.match(refused.output(), why);

    // corral check: exit 2, the same problems.
    const checked = await runCorral([], ["check", file], process.env);
    assert.equal(checked.code, 2, checked.stderr);
    assert.match(checked.stderr, why);

    const daemon = await startTestDaemon({
      readyTimeoutMs: SLOW_START_MS,
      configYaml: JSON.stringify({ server: { allow_adhoc: true }, programs: { calm: sleeper() } }),
    });
    try {
      const pm = daemon.client.processManager;
      const info = await pm.getServerInfo({});
      assert.match(info.containment?.unavailableControllers[first] ?? "", new RegExp(first), "GetServerInfo says why");
      // ApplyConfig, dry run or not: refused as a whole, nothing changes.
      for (const dryRun of [true, false]) {
        const error = await rpcError(pm.applyConfig({ source: { case: "text", value: readFileSync(file, "utf8") }, dryRun }));
        assert.equal(error.code, Status.INVALID_ARGUMENT);
        const fields = errorDetails(error).badRequest?.fieldViolations.map((v) => v.field);
        assert.deepEqual(
          fields,
          missing.map((controller) => `programs.web.limits.${controller}`),
        );
      }
      assert.deepEqual(
        (await pm.listProcesses({})).processes.map((p) => p.name),
        ["calm"],
        "the refused config was not applied",
      );
      // CreateProgram.
      const limits = { memory: first === "memory" ? 512n * 2n ** 20n : 0n, cpu: first === "cpu" ? 1.5 : 0, pids: first === "pids" ? 200 : 0 };
      const error = await rpcError(pm.createProgram({ spec: { name: "adhoc", command: ["sleep", "300"], limits } }));
      assert.equal(error.code, Status.INVALID_ARGUMENT);
      const violation = errorDetails(error).badRequest?.fieldViolations[0];
      assert.equal(violation?.field, `spec.limits.${first}`);
      assert.match(violation?.description ?? "", new RegExp(rule));
      await rpcError(pm.getProcess({ name: "adhoc" }), "not created");
    } finally {
      await daemon.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a limit the host offers is written into the run's cgroup (memory.max, cpu.max, pids.max)", {
  timeout: 60_000,
  skip: missing.length === 3 ? "this host offers no limit controller to cgroup v2" : false,
}, async () => {
  const limits: Record<string, unknown> = {};
  if (!missing.includes("memory")) limits.memory = "64MiB";
  if (!missing.includes("cpu")) limits.cpu = 0.5;
  if (!missing.includes("pids")) limits.pids = 50;
  const daemon = await startTestDaemon({ readyTimeoutMs: SLOW_START_MS, programs: { capped: sleeper({ limits }) } });
  try {
    const info = await running(daemon, "capped");
    const cgroup = await cgroupOf(daemon, info);
    assert.ok(cgroup, "the run has a cgroup");
    if (limits.memory) assert.equal(readFileSync(join(cgroup, "memory.max"), "utf8").trim(), String(64 * 2 ** 20));
    if (limits.cpu) assert.equal(readFileSync(join(cgroup, "cpu.max"), "utf8").trim(), "50000 100000");
    if (limits.pids) assert.equal(readFileSync(join(cgroup, "pids.max"), "utf8").trim(), "50");
    assert.ok(readFileSync(join(cgroup, "cgroup.procs"), "utf8").split("\n").includes(String(info.run!.pid)), "the run is in it");
  } finally {
    await daemon.stop();
  }
});

test("an out-of-memory kill under limits.memory is its own exit reason and event", {
  timeout: 60_000,
  skip: missing.includes("memory") ? "this host offers no memory controller to cgroup v2" : false,
}, async () => {
  const hog = { command: ["python3", "-c", "import time; b = b'x' * (256 * 2**20); time.sleep(300)"], limits: { memory: "64MiB" }, autorestart: "never" };
  const daemon = await startTestDaemon({ readyTimeoutMs: SLOW_START_MS, programs: { hog } });
  try {
    let events: Event[] = [];
    await waitUntil(
      async () => (events = await journalEvents(daemon)).some((e) => e.program === "hog" && e.detail.case === "processExited"),
      30_000,
      "hog to be OOM-killed",
    );
    const limit = events.find((e) => e.detail.case === "limitExceeded");
    assert.equal(limit?.detail.case === "limitExceeded" && limit.detail.value.limit, "limits.memory");
    const exit = events.find((e) => e.detail.case === "processExited");
    assert.ok(exit?.detail.case === "processExited");
    assert.equal(exit.detail.value.limit, "limits.memory");
    assert.equal(exit.detail.value.expected, false);
    assert.match(exit.detail.value.reason, /OOM killer/);
  } finally {
    await daemon.stop();
  }
});

test("max_memory restarts a run whose RSS passes it (autorestart: never too); one under it is left alone", { timeout: 90_000 }, async () => {
  // bytes * n touches every page: RSS, not just address space. calm stays far below 48 MiB.
  const hog = {
    command: ["python3", "-c", "import time; b = b'x' * (96 * 2**20); time.sleep(300)"],
    max_memory: "48MiB",
    autorestart: "never",
    startsecs: "100ms",
  };
  const calm = { command: ["python3", "-c", "import time; time.sleep(300)"], max_memory: "48MiB", startsecs: "100ms" };
  const daemon = await startTestDaemon({
    readyTimeoutMs: SLOW_START_MS,
    configYaml: JSON.stringify({ metrics: { listen: "127.0.0.1:0" }, programs: { hog, calm } }),
  });
  try {
    let firstHog: ProcessInfo | undefined;
    await waitUntil(
      async () => (firstHog = (await daemon.client.processManager.getProcess({ name: "hog" })).process)?.run !== undefined,
      20_000,
      "hog's first run",
    );
    const firstCalm = await running(daemon, "calm");
    let events: Event[] = [];
    await waitUntil(
      async () =>
        (events = await journalEvents(daemon)).some((e) => e.program === "hog" && e.detail.case === "processStarted" && e.runId > firstHog!.run!.runId),
      30_000,
      "hog restarted over max_memory",
    );
    const limit = events.find((e) => e.detail.case === "limitExceeded");
    assert.ok(limit?.detail.case === "limitExceeded", "a LimitExceeded event");
    assert.equal(limit.program, "hog");
    assert.equal(limit.detail.value.limit, "max_memory");
    assert.equal(limit.detail.value.limitBytes, 48n * 2n ** 20n);
    assert.ok(limit.detail.value.observedBytes > 48n * 2n ** 20n, `measured ${limit.detail.value.observedBytes} bytes`);
    const exit = events.find((e) => e.detail.case === "processExited" && e.runId === firstHog!.run!.runId);
    assert.ok(exit?.detail.case === "processExited");
    assert.equal(exit.detail.value.limit, "max_memory");
    assert.equal(exit.detail.value.expected, false, "a restart nobody asked for is worth an alert");
    assert.ok(exit.seq > limit.seq, "the limit event comes before the exit");
    const again = (await daemon.client.processManager.getProcess({ name: "hog" })).process;
    assert.ok((again?.restarts ?? 0) >= 1, "counted as an automatic restart (by the policy, as autorestart: always)");
    const calmNow = (await daemon.client.processManager.getProcess({ name: "calm" })).process;
    assert.equal(calmNow?.run?.runId, firstCalm.run?.runId, "calm was sampled and left alone");
    const metrics = await (await fetch(await metricsUrl(daemon))).text();
    assert.match(metrics, /corral_program_exits_total\{[^}]*program="hog"[^}]*reason="max_memory"[^}]*\} [1-9]/);
  } finally {
    await daemon.stop();
  }
});

/** A passwd account listed as a member of some group (a supplementary group), if the host has one. */
function memberAccount(): { name: string; uid: number; gid: number } | undefined {
  const groups = readFileSync("/etc/group", "utf8")
    .split("\n")
    .map((line) => line.split(":"));
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [name, , uid] = line.split(":");
    const group = groups.find((g) => (g[3] ?? "").split(",").includes(name ?? ""));
    if (name && group && Number(uid) > 0) return { name, uid: Number(uid), gid: Number(group[2]) };
  }
  return undefined;
}

test("user: runs a program as that account (uid, primary group, HOME/USER), its output reopened by path still lands in its logs", {
  timeout: 90_000,
  skip: isRoot ? false : "needs a daemon running as root",
}, async () => {
  const report = ["sh", "-c", 'id -u; id -g; id -G; echo "$HOME $USER"; echo via-path > /dev/stderr; exec sleep 300'];
  const member = memberAccount();
  const programs: Record<string, Record<string, unknown>> = {
    asnobody: { command: report, user: "nobody", startsecs: "100ms", stop_timeout: "2s" },
    bygid: { command: report, uid: NOBODY, gid: "daemon", startsecs: "100ms", stop_timeout: "2s" },
  };
  if (member) programs.member = { command: report, user: member.name, startsecs: "100ms", stop_timeout: "2s" };
  const daemon = await startTestDaemon({ readyTimeoutMs: SLOW_START_MS, configYaml: JSON.stringify({ server: { allow_adhoc: true }, programs }) });
  try {
    const nobody = await running(daemon, "asnobody");
    await waitUntil(async () => (await stdoutOf(daemon, "asnobody")).includes("nobody\n"), 10_000, "asnobody's report");
    assert.equal(await stdoutOf(daemon, "asnobody"), `${NOBODY}\n${NOBODY}\n${NOBODY}\n/nonexistent nobody\n`);
    await waitUntil(async () => (await stdoutOf(daemon, "asnobody", LogStream.STDERR)).includes("via-path"), 10_000, "output written through /dev/stderr");
    const status = readFileSync(`/proc/${nobody.run!.pid}/status`, "utf8");
    assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, "m"), "real, effective, saved and fs uid");
    const cgroup = await cgroupOf(daemon, nobody);
    if (cgroup !== "") {
      const members = readFileSync(join(cgroup, "cgroup.procs"), "utf8").split("\n");
      assert.ok(members.includes(String(nobody.run!.pid)), "in its run's cgroup: it entered as root, then became nobody");
    }
    await waitUntil(async () => (await stdoutOf(daemon, "bygid")).split("\n").length > 3, 10_000, "bygid's report");
    const [uid, gid, groups] = (await stdoutOf(daemon, "bygid")).split("\n");
    assert.deepEqual([uid, gid, groups], [String(NOBODY), "1", "1"], "gid by name (daemon is 1), and it is the only group");
    if (member) {
      await waitUntil(async () => (await stdoutOf(daemon, "member")).split("\n").length > 3, 10_000, "member's report");
      const supplementary = (await stdoutOf(daemon, "member")).split("\n")[2]!.split(" ").map(Number);
      assert.ok(supplementary.includes(member.gid), `${member.name}'s supplementary group ${member.gid} in ${supplementary.join(" ")}`);
    }
    // A stop reaches another user's processes; the user is checked at CreateProgram too.
    const stopped = await daemon.client.processManager.stopProcess({ name: "asnobody" });
    assert.equal(stopped.process?.state, ProcessState.STOPPED);
    const error = await rpcError(daemon.client.processManager.createProgram({ spec: { name: "ghost", command: ["true"], user: "no-such-user-corral" } }));
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    assert.equal(errorDetails(error).badRequest?.fieldViolations[0]?.field, "spec.user");
  } finally {
    await daemon.stop();
  }
});

test("a daemon that does not run as root refuses user: at load, saying why", {
  timeout: 120_000,
  skip: isRoot ? false : "needs root to start a daemon as nobody",
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-nonroot-"));
  try {
    chownSync(dir, NOBODY, NOBODY);
    const file = join(dir, "corral.yaml");
    writeFileSync(file, JSON.stringify({ programs: { web: sleeper({ user: "root" }) } }));
    const daemon = spawnDaemon(["--home", join(dir, "home"), "--config", file], {
      wrapper: ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"],
    });
    assert.equal((await refusedExit(daemon)).code, 2, daemon.output());
    assert.match(daemon.output(), /programs\.web\.user: running a program as root \(uid 0\) needs a daemon running as root \(this one runs as uid 65534\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
