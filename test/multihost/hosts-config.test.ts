// The hosts map of a several-host config, who a daemon or CLI is by QMI's rule, and how the
// client's Fleet routes program names (no daemons here: the rules themselves).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfig, type ConfigProblem } from "../../server/config/index.js";
import { AmbiguousHostError, identifyHost } from "../../server/config/host-identity.js";
import { Fleet } from "../../client/ts/hosts.js";
import { resolveOwnHost } from "../../server/own-host.js";

const options = { file: "corral.yaml", baseDir: "/srv/fleet" };

function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(text, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("config was accepted but should have been rejected");
}

test("hosts are read in config order, with paths made absolute against the config's folder", () => {
  const config = parseConfig(
    [
      "hosts:",
      '  zeta: {address: "10.0.0.9:7070", tls: {ca: certs/ca.pem, cert: /etc/c.pem, key: k.pem, server_name: zeta.lab}, token_file: zeta.token}',
      '  alpha: {address: "unix:run/corral.sock"}',
      "programs:",
      "  web: {command: [sleep, '1'], host: zeta}",
    ].join("\n"),
    options,
  );
  assert.deepEqual(config.hosts, [
    {
      name: "zeta",
      address: "10.0.0.9:7070",
      tls: { ca: "/srv/fleet/certs/ca.pem", cert: "/etc/c.pem", key: "/srv/fleet/k.pem", serverName: "zeta.lab" },
      tokenFile: "/srv/fleet/zeta.token",
    },
    { name: "alpha", address: "unix:/srv/fleet/run/corral.sock" },
  ]);
});

test("with a hosts map, a program's host must be one of its keys", () => {
  const problems = problemsOf(['hosts: {lab1: {address: "10.0.0.1:7070"}}', "programs:", "  web: {command: x, host: lab3}"].join("\n"));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.field, "programs.web.host");
  assert.equal(problems[0]!.line, 3);
  assert.match(problems[0]!.rule, /unknown host "lab3" \(not a key of hosts: lab1\)/);
});

test("bad host entries are named by field: address, a certificate without its key, unknown keys", () => {
  const problems = problemsOf(
    [
      "hosts:",
      "  a: {address: nowhere}",
      '  b: {address: "10.0.0.2:7070", tls: {cert: c.pem}}',
      '  c: {address: "10.0.0.3:7070", token: x}',
      '  -bad: {address: "10.0.0.4:1"}',
    ].join("\n"),
  );
  const byField = new Map(problems.map((p) => [p.field, p.rule]));
  assert.match(byField.get("hosts.a.address") ?? "", /bad address "nowhere" \(use host:port/);
  assert.match(byField.get("hosts.b.tls.key") ?? "", /needs both cert and key/);
  assert.match(byField.get("hosts.c.token") ?? "", /unknown key \(allowed: address, tls, token_file\)/);
  assert.ok(
    [...byField.values()].some((rule) => /bad host name/.test(rule)),
    JSON.stringify(problems),
  );
});

test("without a hosts map, host names are not checked (one-daemon configs stay as they were)", () => {
  const config = parseConfig("programs: {web: {command: x, host: elsewhere}}", options);
  assert.deepEqual(config.hosts, []);
  assert.equal(config.programs[0]!.host, "elsewhere");
});

const interfaces = {
  eth0: [{ address: "10.1.2.3", netmask: "255.255.255.0", family: "IPv4" as const, mac: "00:00:00:00:00:00", internal: false, cidr: "10.1.2.3/24" }],
};

test("QMI's rule: the host whose address is a local interface's or loopback is this machine", async () => {
  const hosts = [
    { name: "far", address: "10.9.9.9:7070" },
    { name: "me", address: "10.1.2.3:7070" },
  ];
  assert.deepEqual(await identifyHost(hosts, { hint: "-", interfaces }), { name: "me", why: "10.1.2.3:7070: 10.1.2.3 is an address of a local interface" });
  assert.equal(await identifyHost([{ name: "far", address: "10.9.9.9:7070" }], { hint: "-", interfaces }), undefined);
  assert.equal((await identifyHost([{ name: "lo", address: "127.0.0.5:1" }], { hint: "-", interfaces }))?.name, "lo");
});

test("QMI's rule refuses to guess when several hosts are this machine, and says how to name it", async () => {
  const hosts = [
    { name: "a", address: "127.0.0.2:7070" },
    { name: "b", address: "10.1.2.3:7070" },
  ];
  await assert.rejects(identifyHost(hosts, { hint: "use --host-name NAME", interfaces }), (error: unknown) => {
    assert.ok(error instanceof AmbiguousHostError);
    assert.match(
      error.message,
      /several hosts of the config: a \(127\.0\.0\.2:7070: 127\.0\.0\.2 is loopback\), b \(10\.1\.2\.3:7070: .*\); use --host-name NAME$/,
    );
    return true;
  });
});

test("a daemon named explicitly listens on its own hosts entry's address, unless a listener already covers it", async () => {
  const config = parseConfig(["hosts:", '  lab1: {address: "127.0.0.2:7071"}', '  lab2: {address: "127.0.0.3:7072"}'].join("\n"), options);
  assert.deepEqual(await resolveOwnHost(config, "lab2", []), { hostName: "lab2", why: "--host-name", listen: ["127.0.0.3:7072"] });
  assert.deepEqual((await resolveOwnHost(config, "lab2", ["0.0.0.0:7072"])).listen, ["0.0.0.0:7072"]);
  assert.deepEqual((await resolveOwnHost(config, "other", ["127.0.0.1:1"])).listen, ["127.0.0.1:1"]);
});

test("the Fleet routes a program to its host, a program without host to every host, in config order", () => {
  const fleet = new Fleet({
    hosts: [
      { name: "lab1", address: "127.0.0.2:1" },
      { name: "lab2", address: "127.0.0.3:1" },
    ],
    programs: [{ name: "web", host: "lab2" }, { name: "agent" }, { name: "db", host: "lab1" }],
  });
  assert.deepEqual(fleet.hostsOf("web"), ["lab2"]);
  assert.deepEqual(fleet.hostsOf("agent"), ["lab1", "lab2"]);
  assert.equal(fleet.hostsOf("unknown"), undefined);
  assert.deepEqual(fleet.programsOn("lab1"), ["agent", "db"]);
  assert.deepEqual(fleet.programsOn("lab2"), ["web", "agent"]);
  assert.throws(() => fleet.client("lab9"), /unknown host "lab9" \(hosts: lab1, lab2\)/);
  fleet.close();
});
