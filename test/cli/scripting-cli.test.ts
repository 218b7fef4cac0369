// The `corral` CLI for scripts and for people (issue 16 item 5, issue 13 item 6): exit codes,
// --json shapes, the overview, help from the one definition, "did you mean", shell completion,
// the duration grammar, `top` width and order, and `corral logs` of every program. The real
// bin/corral.js against a real daemon.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ProcessState } from "../../client/ts/index.js";
import { COMMANDS } from "../../client/cli/spec.js";
import { corral, corralBin, spawnCorral } from "../helpers/cli.js";
import { startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";

// alpha and beta write a numbered line to stdout and one to stderr every 100 ms; idle starts
// only when asked; early writes "old", then "new" once its trigger file exists (for --since).
const ticker = (word: string) => ({
  command: ["/bin/sh", "-c", `i=0; while true; do i=$((i+1)); echo "${word} $i"; echo "${word}-err $i" >&2; sleep 0.1; done`],
  startsecs: "100ms",
  stop_timeout: "2s",
});

function jsonLines(text: string): unknown[] {
  return text
    .trimEnd()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as unknown);
}

describe("corral CLI for scripts and people", () => {
  let daemon: TestDaemon;
  let address: string;
  let trigger: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-cli-early-"));
    trigger = join(dir, "go");
    daemon = await startTestDaemon({
      programs: {
        alpha: ticker("alpha"),
        "beta-long-program-name": ticker("beta"),
        idle: { command: ["sleep", "600"], autostart: false, startsecs: "100ms", stop_timeout: "2s" },
        early: {
          command: ["/bin/sh", "-c", `echo old; while [ ! -e ${trigger} ]; do sleep 0.05; done; echo new; exec sleep 600`],
          startsecs: 0,
          stop_timeout: "2s",
        },
      },
    });
    address = daemon.address;
    await waitUntil(
      async () => (await daemon.client.processManager.listProcesses({})).processes.filter((p) => p.state === ProcessState.RUNNING).length === 3,
      30_000,
      "alpha, beta and early RUNNING",
    );
  });

  after(async () => {
    await daemon?.stop();
  });

  test("status exits 3 when a selected program is not RUNNING, 0 when all are (supervisorctl's rule)", async () => {
    const all = await corral(["status"], address);
    assert.equal(all.code, 3, all.stderr);
    assert.match(all.stdout, /^idle\s+STOPPED/m);
    const running = await corral(["status", "alpha", "early"], address);
    assert.equal(running.code, 0, running.stderr);
    const json = await corral(["status", "idle", "--json"], address);
    assert.equal(json.code, 3);
  });

  test("--json: one shape per object, numbers as numbers, states by their short names, [] when empty", async () => {
    const status = await corral(["status", "--json"], address);
    const processes = JSON.parse(status.stdout) as { name: string; state: string; run: { pid: number; runId: number } | null; spec: { stopTimeout: number } }[];
    const alpha = processes.find((p) => p.name === "alpha")!;
    assert.equal(alpha.state, "RUNNING");
    assert.equal(typeof alpha.run!.pid, "number");
    assert.equal(typeof alpha.run!.runId, "number");
    assert.equal(alpha.spec.stopTimeout, 2, "durations are seconds");
    assert.equal(processes.find((p) => p.name === "idle")!.run, null, "unset fields are null, not missing");

    // seq is a number in events, as everywhere.
    const events = jsonLines((await corral(["events", "--json"], address)).stdout) as { seq: number; program: string }[];
    assert.ok(events.length > 0 && events.every((e) => typeof e.seq === "number"));
    // The same ProcessInfo shape in start's results as in status.
    const started = await corral(["start", "idle", "--json"], address);
    assert.equal(started.code, 0, started.stderr);
    const [result] = JSON.parse(started.stdout) as { name: string; ok: boolean; process: { state: string; run: { pid: number } } }[];
    assert.equal(result!.ok, true);
    assert.equal(result!.process.state, "RUNNING");
    assert.deepEqual(Object.keys(result!.process).sort(), Object.keys(alpha).sort());
    const stopped = await corral(["stop", "idle", "--json"], address);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((JSON.parse(stopped.stdout) as { shutdown: { how: string } }[])[0]!.shutdown.how, "SOFT");
    const again = await corral(["stop", "idle", "--json"], address);
    assert.equal(again.code, 3, "stopping what is not running exits 3, with --json too");

    for (const args of [
      ["task", "ls", "--json"],
      ["ps", "no-such-process-anywhere-x9", "--json"],
    ]) {
      const empty = await corral(args, address);
      assert.equal(empty.stdout, "[]\n", `corral ${args.join(" ")}`);
    }
    const top = await corral(["top", "--once", "--json"], address);
    const rows = JSON.parse(top.stdout) as { name: string; state: string; rssBytes: number | null }[];
    assert.equal(rows.find((r) => r.name === "alpha")!.state, "RUNNING");
    assert.equal(typeof rows.find((r) => r.name === "alpha")!.rssBytes, "number");
    const info = JSON.parse((await corral(["info", "--json"], address)).stdout) as { pid: number; lastEventSeq: number };
    assert.equal(info.pid, daemon.pid);
    assert.equal(typeof info.lastEventSeq, "number");
    const signal = JSON.parse((await corral(["signal", "early", "CONT", "--json"], address)).stdout) as { name: string };
    assert.equal(signal.name, "early");
  });

  test("corral alone prints the overview and exits 0", async () => {
    const { code, stdout } = await corral([], address);
    assert.equal(code, 0);
    assert.match(stdout, /^usage: corral/);
    for (const command of Object.keys(COMMANDS)) assert.match(stdout, new RegExp(`^  ${command} `, "m"));
  });

  test("`X --help` is `help X` for every command, and lists each option with its description", async () => {
    for (const [command, spec] of Object.entries(COMMANDS)) {
      const help = await corral(["help", command], "/nonexistent.sock");
      const dashed = await corral([command, "--help"], "/nonexistent.sock");
      assert.equal(help.code, 0, command);
      assert.equal(dashed.stdout, help.stdout, `corral ${command} --help`);
      for (const [name, option] of Object.entries(spec.options)) {
        assert.ok(help.stdout.includes(`--${name}`), `${command} --${name}`);
        assert.ok(help.stdout.replace(/\s+/g, " ").includes(option.description), `${command} --${name}: ${option.description}`);
      }
    }
  });

  test("did you mean: a mistyped command, option, program or task subcommand gets the closest names", async () => {
    const command = await corral(["stauts"], address);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command "stauts" \(did you mean .*status/);
    const option = await corral(["logs", "alpha", "--folow"], address);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option "--folow" \(did you mean --follow\?\)/);
    const program = await corral(["start", "alpah"], address);
    assert.equal(program.code, 1);
    assert.match(program.stderr, /NOT_FOUND: .*alpah.* \(did you mean alpha\?\)/);
    const status = await corral(["status", "idel"], address);
    assert.match(status.stderr, /\(did you mean idle\?\)/);
    const sub = await corral(["task", "lst"], address);
    assert.match(sub.stderr, /unknown task subcommand "lst" \(did you mean ls/);
  });

  test("one duration grammar: 1m30s and 30 (seconds) are durations on the command line, as in the config", async () => {
    for (const timeout of ["1m30s", "30", "1.5s", "500ms"]) {
      const started = await corral(["start", "idle", "--timeout", timeout], address);
      assert.equal(started.code, 0, `--timeout ${timeout}: ${started.stderr}`);
      await corral(["stop", "idle"], address);
    }
    const bad = await corral(["start", "idle", "--timeout", "soon"], address);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--timeout: "soon" is not a duration \(use e\.g\. 500ms, 10s, 2m, 1m30s, or a number of seconds\)/);
  });

  test("completion: the bash script completes commands, options, fixed values and program names from the daemon", async () => {
    const script = await corral(["completion", "bash"], address);
    assert.equal(script.code, 0);
    const bin = mkdtempSync(join(tmpdir(), "corral-bin-"));
    try {
      symlinkSync(corralBin, join(bin, "corral"));
      const scriptFile = join(bin, "corral.bash");
      writeFileSync(scriptFile, script.stdout);
      // What bash does on TAB: set COMP_WORDS/COMP_CWORD, call the function, read COMPREPLY.
      const complete = (line: string) =>
        new Promise<string[]>((resolve, reject) => {
          const words = line.split(" ");
          const program = `source ${scriptFile}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _corral; printf '%s\\n' "\${COMPREPLY[@]}"`;
          execFile(
            "bash",
            ["-c", program],
            { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CORRAL_ADDRESS: address }, timeout: 30_000 },
            (error, stdout) => (error ? reject(error) : resolve(stdout.split("\n").filter(Boolean))),
          );
        });
      assert.deepEqual(await complete("corral sta"), ["status", "start", "stats"]);
      assert.ok((await complete("corral logs --st")).includes("--stderr"));
      assert.ok((await complete("corral logs --")).includes("--address"), "global options too");
      assert.deepEqual(await complete("corral top --sort "), ["name", "cpu", "mem"]);
      assert.deepEqual(await complete("corral stop "), ["alpha", "beta-long-program-name", "idle", "early"]);
      assert.deepEqual(await complete("corral signal alpha "), [...COMMANDS.signal.positionals[1]!]);
      assert.deepEqual(await complete("corral task "), Object.keys(COMMANDS.task.subcommands));
      assert.deepEqual(await complete("corral completion "), ["bash", "zsh", "fish"]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  // zsh: the script's function with compsys's _describe and _files replaced by ones that print
  // what they were given (the rest of compsys needs a terminal). fish: `complete -C` asks fish's
  // own completion machinery what it would offer for a command line.
  const shells = [
    {
      shell: "zsh",
      run: (scriptFile: string, line: string) => {
        const words = line.split(" ");
        return `compdef() { :; }; _describe() { print -rl -- "\${(@P)2}"; }; _files() { print -r -- ":files"; }; source ${scriptFile}; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; _corral`;
      },
      word: (out: string) => out.split(":")[0]!,
    },
    { shell: "fish", run: (scriptFile: string, line: string) => `source ${scriptFile}; complete -C '${line}'`, word: (out: string) => out.split("\t")[0]! },
  ];
  for (const { shell, run, word } of shells) {
    test(`completion: the ${shell} script completes commands, options and program names`, async (t) => {
      const available = await new Promise<boolean>((resolve) => execFile(shell, ["-c", "true"], (error) => resolve(!error)));
      if (!available) {
        t.skip(`${shell} is not installed (.ci/run installs it)`);
        return;
      }
      const script = await corral(["completion", shell], address);
      assert.equal(script.code, 0);
      const bin = mkdtempSync(join(tmpdir(), "corral-bin-"));
      try {
        symlinkSync(corralBin, join(bin, "corral"));
        const scriptFile = join(bin, `corral.${shell}`);
        writeFileSync(scriptFile, script.stdout);
        const complete = (line: string) =>
          new Promise<string[]>((resolve, reject) => {
            execFile(
              shell,
              ["-c", run(scriptFile, line)],
              { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CORRAL_ADDRESS: address }, timeout: 30_000 },
              (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.split("\n").filter(Boolean).map(word))),
            );
          });
        assert.deepEqual(await complete("corral sta"), ["status", "start", "stats"]);
        assert.ok((await complete("corral logs --st")).includes("--stderr"));
        assert.deepEqual(await complete("corral stop "), ["alpha", "beta-long-program-name", "idle", "early"]);
        assert.deepEqual(await complete("corral top --sort "), ["name", "cpu", "mem"]);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });
  }

  test("top fits the terminal width and keeps its rows in --sort order (name by default)", async () => {
    const narrow = await corral(["top", "--once"], address, { COLUMNS: "40" });
    assert.equal(narrow.code, 0, narrow.stderr);
    const lines = narrow.stdout.trimEnd().split("\n");
    assert.ok(lines.length >= 6);
    for (const line of lines) assert.ok(line.length <= 40, `longer than 40 columns: ${JSON.stringify(line)}`);
    const names = (text: string) =>
      text
        .split("\n")
        .slice(3)
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]!);
    const byName = names((await corral(["top", "--once"], address)).stdout);
    assert.deepEqual(byName, ["alpha", "beta-long-program-name", "early", "idle"]);
    const rows = JSON.parse((await corral(["top", "--once", "--json", "--sort", "mem"], address)).stdout) as { rssBytes: number | null }[];
    const rss = rows.map((r) => r.rssBytes ?? -1);
    assert.deepEqual(
      rss,
      [...rss].sort((a, b) => b - a),
    );
    const bad = await corral(["top", "--sort", "memory"], address);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean mem/);
  });

  test("logs with no name follows every program, each line prefixed by program and stream", async () => {
    const logs = spawnCorral(["logs", "--tail", "0"], address);
    try {
      const seen = () => logs.stdout();
      await waitUntil(
        () =>
          /^alpha {17} out \| alpha \d+$/m.test(seen()) &&
          /^alpha {17} err \| alpha-err \d+$/m.test(seen()) &&
          /^beta-long-program-name out \| beta \d+$/m.test(seen()) &&
          /^beta-long-program-name err \| beta-err \d+$/m.test(seen()),
        15_000,
        "lines of alpha and beta, both streams",
      );
    } finally {
      assert.equal(await logs.stop(), 0);
    }
  });

  test("logs NAME shows both streams; --stdout or --stderr picks one", async () => {
    const both = await corral(["logs", "alpha", "--tail", "2"], address);
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.stdout, /^alpha \d+\nalpha \d+\n$/);
    assert.match(both.stderr, /^alpha-err \d+\nalpha-err \d+\n$/);
    const errOnly = await corral(["logs", "alpha", "--tail", "2", "--stderr"], address);
    assert.match(errOnly.stdout, /^alpha-err \d+\nalpha-err \d+\n$/);
    assert.equal(errOnly.stderr, "");
    const outOnly = await corral(["logs", "alpha", "--tail", "1", "--stdout"], address);
    assert.match(outOnly.stdout, /^alpha \d+\n$/);
    assert.equal(outOnly.stderr, "");
  });

  test("logs --json prints one object per line with the line's offset, which ReadLogs reads from", async () => {
    const { code, stdout } = await corral(["logs", "alpha", "--tail", "3", "--json"], address);
    assert.equal(code, 0);
    const lines = jsonLines(stdout) as { program: string; stream: string; offset: number; time: string; line: string }[];
    assert.equal(lines.length, 6);
    assert.deepEqual(
      lines.map((l) => l.stream),
      ["stdout", "stdout", "stdout", "stderr", "stderr", "stderr"],
    );
    for (const line of lines) {
      assert.equal(line.program, "alpha");
      assert.ok(!Number.isNaN(Date.parse(line.time)));
      const { chunk } = await daemon.client.processManager.readLogs({
        name: "alpha",
        stream: line.stream === "stderr" ? 2 : 1,
        offset: BigInt(line.offset),
        maxBytes: line.line.length + 1,
      });
      assert.equal(Buffer.from(chunk!.data).toString(), `${line.line}\n`);
    }
  });

  test("logs --since D shows only what was written in the last D", async () => {
    await waitUntil(async () => (await corral(["logs", "early"], address)).stdout === "old\n", 15_000, "early's first line");
    // "old" is 7 s older than "new". The CLI reads --since against its own clock when it has
    // started, which can take seconds here: the window begins 5 s before the trigger as the test
    // counts, so up to 5 s of start-up still leave "new" in, and "old" (dated by the daemon to
    // within its 1 s time marks) out.
    const oldAt = Date.now();
    await waitUntil(() => Date.now() - oldAt > 7_000, 10_000, "7 s to pass");
    const triggerAt = Date.now();
    writeFileSync(trigger, "");
    await waitUntil(async () => (await corral(["logs", "early"], address)).stdout === "old\nnew\n", 15_000, "early's second line");
    const recent = await corral(["logs", "early", "--since", `${Date.now() - triggerAt + 5_000}ms`], address);
    assert.equal(recent.code, 0, recent.stderr);
    assert.equal(recent.stdout, "new\n");
    const followed = spawnCorral(["logs", "early", "-f", "--since", `${Date.now() - triggerAt + 5_000}ms`], address);
    try {
      await waitUntil(() => followed.stdout() === "new\n", 15_000, "a follower since then to start with new");
    } finally {
      await followed.stop();
    }
    assert.equal(followed.stdout(), "new\n");
    const all = await corral(["logs", "early", "--since", "1h"], address);
    assert.equal(all.stdout, "old\nnew\n");
  });
});
