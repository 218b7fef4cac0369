// Specification of the config loader: what a YAML config turns into, and what a user is told
// when it is wrong.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, EXAMPLE_CONFIG_YAML, builtinExampleConfig, loadConfigFile, parseConfig } from "../../server/config/index.js";
import type { ConfigProblem, CorralConfig } from "../../server/config/index.js";

const options = { file: "corral.yaml", baseDir: "/srv/app" };

function parse(text: string): CorralConfig {
  return parseConfig(text, options);
}

/** The problems parseConfig reports for `text`; fails the test if it accepts it. */
function problemsOf(text: string): ConfigProblem[] {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail("config was accepted but should have been rejected");
}

function onlyProblem(text: string): ConfigProblem {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.map((p) => JSON.stringify(p)).join("\n")}`);
  return problems[0];
}

function program(text: string) {
  const config = parse(text);
  assert.equal(config.programs.length, 1);
  return config.programs[0];
}

test("a program with only a command gets every default", () => {
  const config = parse("programs:\n  db:\n    command: [postgres, -D, data]\n");
  assert.deepEqual(config.server, {
    listen: [],
    allowAdhoc: false,
    stopOrder: "parallel",
    logs: { maxTotalBytes: 2 ** 30 },
    streams: { maxPerConnection: 256, maxTotal: 1024 },
  });
  assert.equal(config.metrics, undefined);
  assert.deepEqual(config.tasks, { modules: [] });
  assert.deepEqual(config.programs, [
    {
      name: "db",
      command: ["postgres", "-D", "data"],
      cwd: "/srv/app",
      env: {},
      autostart: true,
      autorestart: "on-failure",
      exitcodes: [0],
      startsecsMs: 1000,
      startretries: 3,
      stopSignal: "SIGTERM",
      stopTimeoutMs: 10_000,
      labels: {},
      backoff: { initialMs: 1000, maxMs: 30_000, multiplier: 2, resetAfterMs: 30_000 },
      log: { maxBytes: 10 * 1024 * 1024, backups: 5 },
      maxRestarts: 0,
      restartWindowMs: 60_000,
      stdin: false,
      description: "",
    },
  ]);
});

test("an empty file, and an empty programs map, are valid configs with no programs", () => {
  assert.deepEqual(parse("").programs, []);
  assert.deepEqual(parse("programs: {}\n").programs, []);
  assert.deepEqual(parse("programs:\n  # db: {command: [postgres]}\n").programs, []);
});

test("every key of a full config maps to the core's camelCase, ms and absolute-path form", () => {
  const config = parse(`
server: {listen: ["127.0.0.1:7070", "[::1]:7071"], allow_adhoc: true, logs: {max_total: 2GiB}}
metrics: {listen: "127.0.0.2:9464"}
web: {listen: "127.0.0.1:7071"}
telemetry: {otlp_endpoint: "http://127.0.0.1:4318", service_name: lab, logs: true, metrics: true, metrics_interval: 30s}
programs:
  db:
    command: ["postgres", "-D", "data"]
    cwd: ./db
    env: {PGPORT: "5433"}
    autostart: false
    autorestart: always
    exitcodes: [0, 2]
    startsecs: 500ms
    startretries: 7
    stop_signal: INT
    stop_timeout: 1m30s
    labels: {group: storage}
    description: "the database"
    stdin: true
    backoff: {initial: 2s, max: 1m, multiplier: 1.5, reset_after: 5m}
    max_restarts: 4
    restart_window: 10m
    log: {max_bytes: 512KiB, backups: 0}
tasks: {modules: ["./tasks/calibration.js", "/opt/tasks/x.js"]}
`);
  assert.deepEqual(config.server, {
    listen: ["127.0.0.1:7070", "[::1]:7071"],
    allowAdhoc: true,
    stopOrder: "parallel",
    logs: { maxTotalBytes: 2 * 2 ** 30 },
    streams: { maxPerConnection: 256, maxTotal: 1024 },
  });
  // Beyond loopback only with server.tls and server.auth (test/rpc/metrics-tls.test.ts).
  assert.deepEqual(config.metrics, { listen: "127.0.0.2:9464" });
  assert.deepEqual(config.web, { listen: "127.0.0.1:7071" });
  assert.deepEqual(config.telemetry, {
    endpoint: "http://127.0.0.1:4318",
    serviceName: "lab",
    traces: true,
    logs: true,
    metrics: true,
    metricsIntervalMs: 30_000,
  });
  assert.deepEqual(config.tasks.modules, ["/srv/app/tasks/calibration.js", "/opt/tasks/x.js"]);
  assert.deepEqual(config.programs[0], {
    name: "db",
    command: ["postgres", "-D", "data"],
    cwd: "/srv/app/db",
    env: { PGPORT: "5433" },
    autostart: false,
    autorestart: "always",
    exitcodes: [0, 2],
    startsecsMs: 500,
    startretries: 7,
    stopSignal: "SIGINT",
    stopTimeoutMs: 90_000,
    labels: { group: "storage" },
    backoff: { initialMs: 2000, maxMs: 60_000, multiplier: 1.5, resetAfterMs: 300_000 },
    log: { maxBytes: 512 * 1024, backups: 0 },
    maxRestarts: 4,
    restartWindowMs: 600_000,
    stdin: true,
    description: "the database",
  });
});

test("programs keep config order, even names that look like numbers", () => {
  const config = parse("programs:\n  zeta: {command: [a]}\n  '10': {command: [b]}\n  alpha: {command: [c]}\n  '2': {command: [d]}\n");
  assert.deepEqual(
    config.programs.map((p) => p.name),
    ["zeta", "10", "alpha", "2"],
  );
});

test("durations take ms, s, m, h, compounds, and bare numbers as seconds", () => {
  const cases: [string, number][] = [
    ["500ms", 500],
    ["10s", 10_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    ["0", 0],
    ["3", 3000],
    ["0.25", 250],
  ];
  for (const [text, ms] of cases) {
    assert.equal(program(`programs:\n  p:\n    command: [x]\n    startsecs: ${text}\n`).startsecsMs, ms, text);
  }
});

test("a bad duration is reported with its field, line, column and an example of the format", () => {
  for (const bad of ["10x", "-1", "s", "'10'", "1 s", "true", "5000h"]) {
    const problem = onlyProblem(`programs:\n  db:\n    command: [x]\n    stop_timeout: ${bad}\n`);
    assert.equal(problem.field, "programs.db.stop_timeout", bad);
    assert.equal(problem.line, 4, bad);
    assert.equal(problem.column, 19, bad);
    assert.match(problem.rule, bad === "5000h" ? /too long/ : /^bad duration .* \(use e\.g\. 500ms, 10s, 2m/, bad);
  }
  const error = (() => {
    try {
      parse("programs:\n  db:\n    command: [x]\n    startsecs: 10x\n");
    } catch (caught) {
      return caught;
    }
  })();
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /^corral\.yaml:4:16: programs\.db\.startsecs: bad duration "10x" \(use e\.g\. 500ms, 10s, 2m/);
});

test("stop_signal accepts TERM for SIGTERM and rejects signals that do not exist", () => {
  assert.equal(program("programs:\n  p: {command: [x], stop_signal: TERM}\n").stopSignal, "SIGTERM");
  assert.equal(program("programs:\n  p: {command: [x], stop_signal: SIGHUP}\n").stopSignal, "SIGHUP");
  const problem = onlyProblem("programs:\n  p:\n    command: [x]\n    stop_signal: SIGFOO\n");
  assert.equal(problem.field, "programs.p.stop_signal");
  assert.equal(problem.line, 4);
  assert.match(problem.rule, /unknown signal "SIGFOO"/);
});

test("an unknown key is an error at the key's own line, naming the keys allowed there", () => {
  const problem = onlyProblem("programs:\n  db:\n    command: [x]\n\n    stop_sig: TERM\n");
  assert.equal(problem.field, "programs.db.stop_sig");
  assert.equal(problem.line, 5);
  assert.equal(problem.column, 5);
  assert.match(problem.rule, /^unknown key \(allowed: .*stop_signal/);
  assert.equal(problem.value, "TERM");

  const top = onlyProblem("programs: {}\nprogams: {}\n");
  assert.equal(top.field, "progams");
  assert.equal(top.line, 2);
});

test("a value of the wrong type says what was expected and what was given", () => {
  const autostart = onlyProblem("programs:\n  p:\n    command: [x]\n    autostart: yes\n");
  assert.equal(autostart.field, "programs.p.autostart");
  assert.equal(autostart.line, 4);
  assert.equal(autostart.rule, 'expected true or false, got "yes"');

  const env = onlyProblem("programs:\n  p:\n    command: [x]\n    env: {PORT: 5433}\n");
  assert.equal(env.field, "programs.p.env.PORT");
  assert.match(env.rule, /^must be a string \(quote it\)/);

  const policy = onlyProblem("programs:\n  p: {command: [x], autorestart: sometimes}\n");
  assert.match(policy.rule, /must be one of never, on-failure, always/);

  const code = onlyProblem("programs:\n  p:\n    command: [x]\n    exitcodes: [0, 300]\n");
  assert.equal(code.field, "programs.p.exitcodes[1]");
  assert.equal(code.line, 4);
  assert.equal(code.column, 20);
});

test("a program defined twice is a duplicate program name, at the second definition's line", () => {
  const problem = onlyProblem("programs:\n  db:\n    command: [a]\n  web:\n    command: [b]\n  db:\n    command: [c]\n");
  assert.equal(problem.field, "programs.db");
  assert.equal(problem.line, 6);
  assert.equal(problem.column, 3);
  assert.match(problem.rule, /^duplicate program name \(first defined on line 2\)/);

  // After a program with an empty body, yaml's own error position is off; ours is not.
  const afterEmpty = problemsOf("programs:\n  db: {command: [a]}\n  web:\n  db: {command: [c]}\n");
  assert.deepEqual(
    afterEmpty.map((p) => [p.line, p.column, p.field, p.rule]),
    [
      [3, 3, "programs.web", "expected a mapping, got null"],
      [4, 3, "programs.db", "duplicate program name (first defined on line 2)"],
    ],
  );
});

test("a bad program name is reported at the name", () => {
  const problem = onlyProblem("programs:\n  ok: {command: [x]}\n  -bad name: {command: [x]}\n");
  assert.equal(problem.field, 'programs["-bad name"]');
  assert.equal(problem.line, 3);
  assert.match(problem.rule, /^bad program name/);
  assert.equal(problemsOf(`programs:\n  ${"a".repeat(65)}: {command: [x]}\n`)[0].rule.startsWith("bad program name"), true);
});

test("every problem in a config is reported at once, in line order", () => {
  const problems = problemsOf(`programs:
  db:
    command: [x]
    startsecs: soon
  web:
    command: [y]
    stop_signal: SIGFOO
    colour: blue
`);
  assert.deepEqual(
    problems.map((p) => [p.line, p.field]),
    [
      [4, "programs.db.startsecs"],
      [7, "programs.web.stop_signal"],
      [8, "programs.web.colour"],
    ],
  );
});

test("the error message lists every problem, one per line", () => {
  assert.throws(
    () => parse("programs:\n  a: {command: []}\n  b: {}\n"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.message.split("\n"), [
        "corral.yaml:2:16: programs.a.command: must not be empty (give at least the executable)",
        "corral.yaml:3:3: programs.b.command: required (a list like [node, app.js], or a shell command string)",
      ]);
      return true;
    },
  );
});

test("a YAML syntax error is a problem with its position", () => {
  const problems = problemsOf("programs:\n  db: {command: [x]\n  web: {}\n");
  assert.ok(problems.length >= 1);
  assert.equal(problems[0].file, "corral.yaml");
  assert.equal(problems[0].field, "");
  assert.equal(typeof problems[0].line, "number");
});

test("a command given as a string runs with /bin/sh -c", () => {
  assert.deepEqual(program("programs:\n  p: {command: 'echo hi | tr a-z A-Z'}\n").command, ["/bin/sh", "-c", "echo hi | tr a-z A-Z"]);
  assert.match(onlyProblem("programs:\n  p: {command: [node, 3]}\n").rule, /^must be a string \(quote it\)/);
});

test("server.logs.max_total caps all logs together: 1 GiB unless set, 0 for no cap, sizes checked", () => {
  assert.equal(parse("programs: {}\n").server.logs?.maxTotalBytes, 2 ** 30);
  assert.equal(parse("server: {logs: {max_total: 300MiB}}\n").server.logs?.maxTotalBytes, 300 * 2 ** 20);
  assert.equal(parse("server: {logs: {max_total: 0}}\n").server.logs?.maxTotalBytes, 0);
  const bad = onlyProblem("server: {logs: {max_total: lots}}\n");
  assert.equal(bad.field, "server.logs.max_total");
  assert.match(bad.rule, /^bad size "lots" .*0 means no total cap/);
  assert.match(onlyProblem("server: {logs: {max_totl: 1GiB}}\n").rule, /unknown key \(allowed: max_total\)/);
});

test("cwd is resolved against the config file's directory", () => {
  assert.equal(program("programs:\n  p: {command: [x], cwd: ./db}\n").cwd, "/srv/app/db");
  assert.equal(program("programs:\n  p: {command: [x], cwd: ../shared}\n").cwd, "/srv/shared");
  assert.equal(program("programs:\n  p: {command: [x], cwd: /var/lib/p}\n").cwd, "/var/lib/p");
});

test("log sizes take bytes or units, and backoff and listen addresses are checked", () => {
  assert.equal(program("programs:\n  p: {command: [x], log: {max_bytes: 1MB}}\n").log.maxBytes, 1_000_000);
  assert.equal(program("programs:\n  p: {command: [x], log: {max_bytes: 1GB}}\n").log.maxBytes, 1e9);
  assert.equal(program("programs:\n  p: {command: [x], log: {max_bytes: 0}}\n").log.maxBytes, 0);
  assert.match(onlyProblem("programs:\n  p: {command: [x], log: {max_bytes: 10 parsecs}}\n").rule, /^bad size/);
  assert.match(onlyProblem("programs:\n  p: {command: [x], log: {backups: 101}}\n").rule, /0 to 100/);
  assert.equal(onlyProblem("programs:\n  p: {command: [x], backoff: {multiplier: 0.5}}\n").field, "programs.p.backoff.multiplier");
  assert.equal(onlyProblem("programs:\n  p: {command: [x], backoff: {initial: 1m, max: 10s}}\n").field, "programs.p.backoff.max");
  assert.match(onlyProblem("server: {listen: ['0.0.0.0:7070']}\n").rule, /loopback/);
  assert.match(onlyProblem("metrics: {listen: 'nope'}\n").rule, /^bad address/);
});

test("a missing config file is a ConfigError naming the path", async () => {
  const path = join(tmpdir(), "corral-no-such-dir", "corral.yaml");
  await assert.rejects(loadConfigFile(path), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems[0].file, path);
    assert.match(error.message, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: config file not found`));
    return true;
  });
});

test("loadConfigFile resolves paths against the file's directory and reports problems by the name given", async () => {
  const dir = await mkdtemp(join(tmpdir(), "corral-config-"));
  try {
    const file = join(dir, "corral.yaml");
    await writeFile(file, "programs:\n  p: {command: [x], cwd: work}\ntasks: {modules: [./t.js]}\n");
    const config = await loadConfigFile(file);
    assert.equal(config.path, file);
    assert.equal(config.programs[0].cwd, join(dir, "work"));
    assert.deepEqual(config.tasks.modules, [join(dir, "t.js")]);

    await writeFile(file, "programs:\n  p: {command: [x], startsecs: 1x}\n");
    await assert.rejects(loadConfigFile(file), (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${file}:2:`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the built-in example parses into demo programs that run with node and /bin/sh", () => {
  const config = builtinExampleConfig("/tmp/example");
  assert.deepEqual(
    config.programs.map((p) => p.name),
    ["ticker", "web", "flaky", "batch"],
  );
  for (const p of config.programs) {
    assert.ok(["/bin/sh", process.execPath].includes(p.command[0]), p.name);
    assert.equal(p.cwd, "/tmp/example");
  }
  const byName = new Map(config.programs.map((p) => [p.name, p]));
  assert.equal(byName.get("batch")?.autostart, false);
  assert.equal(byName.get("batch")?.autorestart, "never");
  assert.equal(byName.get("flaky")?.autorestart, "on-failure");
  assert.ok(EXAMPLE_CONFIG_YAML.includes("ticker:"));
});
