// The spawner (server/core/os/spawner.ts): a small perl process forks the daemon's runs. Its runs
// are the spawner's children, not the daemon's; exit codes and signals still come back exactly;
// a spawner killed with SIGKILL loses no run: they are adopted on the spot, their ends seen, and
// the next start forks with a new spawner.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CorralClientError, ProcessState, StartWait, Status, StopWait } from "../../client/ts/index.js";
import { readStat } from "../../server/core/os/proc.js";
import { isAlive, SLOW_START_MS, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { readAll } from "../helpers/logs.js";

const once = { autostart: false, startsecs: "0s", autorestart: "never" };

async function runningPid(daemon: TestDaemon, name: string): Promise<number> {
  const started = await daemon.client.processManager.startProcess({ name, wait: StartWait.RUNNING });
  assert.equal(started.process?.state, ProcessState.RUNNING, `${name}: ${started.process?.stateReason}`);
  return started.process?.run?.pid ?? 0;
}

/** The spawner the daemon uses: the parent of a run it forked (perl, the daemon's child). */
function spawnerOf(daemon: TestDaemon, pid: number): number {
  const parent = readStat(pid)?.ppid ?? 0;
  assert.notEqual(parent, daemon.pid, `pid ${pid} was forked by the daemon itself, not by the spawner`);
  assert.equal(readStat(parent)?.ppid, daemon.pid, `pid ${pid}'s parent ${parent} is not the daemon's child`);
  assert.equal(readStat(parent)?.comm, "perl");
  return parent;
}

/** Starts `name` until a run is forked by the spawner (it starts with the daemon; until it is up, Node's spawn forks). */
async function startOnSpawner(daemon: TestDaemon, name: string, pids: number[]): Promise<number> {
  let pid = 0;
  await waitUntil(
    async () => {
      if (pid > 0) await daemon.client.processManager.stopProcess({ name, wait: StopWait.STOPPED });
      pid = await runningPid(daemon, name);
      pids.push(pid);
      return readStat(pid)?.ppid !== daemon.pid;
    },
    10_000,
    `a run of ${name} forked by the spawner`,
  );
  return pid;
}

async function waitExited(daemon: TestDaemon, name: string) {
  let info = (await daemon.client.processManager.getProcess({ name })).process;
  await waitUntil(
    async () => {
      info = (await daemon.client.processManager.getProcess({ name })).process;
      return info?.state === ProcessState.EXITED || info?.state === ProcessState.STOPPED;
    },
    20_000,
    `${name} ended`,
  );
  return info;
}

test("runs are forked by the spawner, straight into their command, with exit codes and signals reported exactly", { timeout: 120_000 }, async () => {
  const daemon = await startTestDaemon({
    readyTimeoutMs: SLOW_START_MS,
    programs: {
      sleeper: { command: ["sleep", "300"], ...once },
      three: { command: ["sh", "-c", "sleep 0.2; exit 3"], ...once },
      term: { command: ["sleep", "300"], ...once },
    },
  });
  const pids: number[] = [];
  try {
    const pm = daemon.client.processManager;
    const sleeper = await startOnSpawner(daemon, "sleeper", pids);
    spawnerOf(daemon, sleeper);
    // No shell in between: the leader is the command, in its own session and process group.
    assert.equal(readFileSync(`/proc/${sleeper}/cmdline`, "latin1"), "sleep\u0000300\u0000");
    assert.equal(readStat(sleeper)?.session, sleeper);
    assert.equal(readStat(sleeper)?.pgrp, sleeper);
    assert.match(readFileSync(`/proc/${sleeper}/environ`, "latin1"), /\u0000CORRAL_PROGRAM=sleeper\u0000/);

    pids.push(await runningPid(daemon, "three"));
    const three = await waitExited(daemon, "three");
    assert.equal(three?.run?.exitCode, 3, three?.stateReason);

    const term = await runningPid(daemon, "term");
    pids.push(term);
    spawnerOf(daemon, term);
    process.kill(term, "SIGKILL");
    const killed = await waitExited(daemon, "term");
    assert.equal(killed?.run?.exitSignal, "SIGKILL", killed?.stateReason);
    assert.match(killed?.stateReason ?? "", /killed by SIGKILL/);

    const stopped = await pm.stopProcess({ name: "sleeper", wait: StopWait.STOPPED });
    assert.match(stopped.process?.stateReason ?? "", /^stopped by request; killed by SIGTERM$/);
    assert.equal(isAlive(sleeper), false);
  } finally {
    for (const pid of pids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
    await daemon.stop();
  }
});

test("a spawner killed with SIGKILL loses no run: its runs are adopted and stopped, and the next start gets a new spawner", { timeout: 120_000 }, async () => {
  const daemon = await startTestDaemon({
    readyTimeoutMs: SLOW_START_MS,
    programs: { first: { command: ["sleep", "300"], ...once }, short: { command: ["sleep", "300"], ...once }, second: { command: ["sleep", "300"], ...once } },
  });
  const pids: number[] = [];
  try {
    const pm = daemon.client.processManager;
    const first = await startOnSpawner(daemon, "first", pids);
    const short = await runningPid(daemon, "short");
    pids.push(short);
    const spawner = spawnerOf(daemon, first);
    assert.equal(spawnerOf(daemon, short), spawner);

    process.kill(spawner, "SIGKILL");
    // The runs live on (init's children now) and stay RUNNING; one that ends is seen ending.
    await waitUntil(() => readStat(first)?.ppid !== spawner, 10_000, "the runs reparented");
    assert.equal((await pm.getProcess({ name: "first" })).process?.state, ProcessState.RUNNING);
    process.kill(short, "SIGKILL");
    const shortEnd = await waitExited(daemon, "short");
    assert.match(shortEnd?.stateReason ?? "", /spawner died/);

    const stopped = await pm.stopProcess({ name: "first", wait: StopWait.STOPPED });
    assert.equal(stopped.process?.state, ProcessState.STOPPED, stopped.process?.stateReason);
    assert.equal(isAlive(first), false);

    const second = await startOnSpawner(daemon, "second", pids);
    assert.notEqual(spawnerOf(daemon, second), spawner);
  } finally {
    for (const pid of pids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
    await daemon.stop();
  }
});

// The program waits for SIGTERM with sigwaitinfo, which says who sent it, and writes that down.
const senderProbe = [
  "import signal",
  "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})",
  "print('ready', flush=True)",
  "info = signal.sigwaitinfo({signal.SIGTERM})",
  "print('from', info.si_pid, flush=True)",
].join("\n");

test("the spawner sends a run's stop signal (its exits run on the spawner's core), and its runs get SIGPIPE as usual", { timeout: 120_000 }, async () => {
  const daemon = await startTestDaemon({
    readyTimeoutMs: SLOW_START_MS,
    programs: { probe: { command: ["python3", "-c", senderProbe], ...once, stop_timeout: "10s" } },
  });
  const pids: number[] = [];
  try {
    const pm = daemon.client.processManager;
    const probe = await startOnSpawner(daemon, "probe", pids);
    const spawner = spawnerOf(daemon, probe);
    // The spawner ignores SIGPIPE for itself (an exit told to a dead daemon must not kill it): not for its runs.
    const ignored = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${probe}/status`, "latin1"))?.[1] ?? "0"}`);
    assert.equal(ignored & (1n << 12n), 0n, "SIGPIPE (13) is not ignored by the run");
    await waitUntil(async () => (await readAll(pm, "probe")).data.toString().includes("ready"), 10_000, "the probe blocking SIGTERM");
    const stopped = await pm.stopProcess({ name: "probe", wait: StopWait.STOPPED });
    assert.equal(stopped.process?.state, ProcessState.STOPPED, stopped.process?.stateReason);
    assert.match((await readAll(pm, "probe")).data.toString(), new RegExp(`^from ${spawner}$`, "m"), "SIGTERM came from the spawner");
  } finally {
    for (const pid of pids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
    await daemon.stop();
  }
});

test("an exec that fails inside the spawner fails the start with the errno and the path, and the spawner goes on forking", { timeout: 120_000 }, async () => {
  // A script whose interpreter is missing passes the check before spawning (the file exists and
  // is executable: spawnable.ts), so the exec itself fails, in the spawner's child.
  const dir = mkdtempSync(join(tmpdir(), "corral-badexec-"));
  const script = join(dir, "bad-interpreter");
  writeFileSync(script, "#!/nonexistent/interpreter\necho never\n", { mode: 0o755 });
  const daemon = await startTestDaemon({
    readyTimeoutMs: SLOW_START_MS,
    programs: {
      first: { command: ["sleep", "300"], ...once },
      bad: { command: [script], ...once },
      after: { command: ["sleep", "300"], ...once },
    },
  });
  const pids: number[] = [];
  try {
    const pm = daemon.client.processManager;
    const first = await startOnSpawner(daemon, "first", pids);
    const spawner = spawnerOf(daemon, first);
    const failed = await pm.startProcess({ name: "bad", wait: StartWait.RUNNING }).then(
      (reply) => assert.fail(`the start of a command that cannot exec succeeded: ${reply.process?.state}`),
      (error: unknown) => error,
    );
    assert.ok(failed instanceof CorralClientError, String(failed));
    assert.equal(failed.code, Status.FAILED_PRECONDITION, failed.message);
    assert.equal(failed.errorInfo?.reason, "PROGRAM_FATAL", failed.message);
    assert.match(failed.errorInfo?.metadata.spawn_error ?? "", new RegExp(`spawning ${script} failed: .*\\(exec\\): ENOENT$`));
    const bad = (await pm.getProcess({ name: "bad" })).process;
    assert.equal(bad?.state, ProcessState.FATAL, bad?.stateReason);
    assert.match(bad?.stateReason ?? "", /gave up after 4 attempt\(s\) \(startretries=3\)/);
    assert.ok(isAlive(spawner), "the spawner outlived its child's failed exec");
    const after = await runningPid(daemon, "after");
    pids.push(after);
    assert.equal(spawnerOf(daemon, after), spawner, "the same spawner forked the next run");
  } finally {
    for (const pid of pids) if (isAlive(pid)) process.kill(-pid, "SIGKILL");
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
