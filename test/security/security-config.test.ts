// The server's security settings in the config file: server.tls, server.auth, server.insecure
// and server.audit_log, with paths relative to the config file and rules that name the field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfig, type ConfigProblem } from "../../server/config/index.js";

const parse = (text: string) => parseConfig(text, { file: "corral.yaml", baseDir: "/etc/corral" });

function problems(text: string): ConfigProblem[] {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("the config was accepted");
}

test("tls, auth and audit_log paths are resolved against the config file's directory", () => {
  const config = parse(`
server:
  listen: ["0.0.0.0:7070"]
  tls: {cert: tls/server.pem, key: /abs/server.key, client_ca: tls/ca.pem}
  auth:
    tokens: [{name: ci, file: tokens/ci.token, role: operator}]
    clients: [{subject: "CN=alice,O=lab", role: admin}]
  audit_log: audit/corral.jsonl
`);
  assert.deepEqual(config.server.tls, {
    certPath: "/etc/corral/tls/server.pem",
    keyPath: "/abs/server.key",
    clientCaPath: "/etc/corral/tls/ca.pem",
    requireClientCert: true,
  });
  assert.deepEqual(config.server.auth, {
    tokens: [{ name: "ci", file: "/etc/corral/tokens/ci.token", role: "operator" }],
    clients: [{ subject: "CN=alice,O=lab", role: "admin" }],
  });
  assert.equal(config.server.auditLog, "/etc/corral/audit/corral.jsonl");
  assert.equal(config.server.insecure, undefined);
  const optional = parse("server: {tls: {cert: c.pem, key: k.pem, client_ca: ca.pem, require_client_cert: false}}\n");
  assert.equal(optional.server.tls?.requireClientCert, false);
});

test("a listener beyond loopback needs TLS and auth, or server.insecure", () => {
  const [wide, ...rest] = problems("server: {listen: ['127.0.0.1:7070', '0.0.0.0:7071']}\n");
  assert.equal(rest.length, 0);
  assert.equal(wide!.field, "server.listen[1]");
  assert.match(wide!.rule, /TLS.*--insecure/);
  assert.equal(problems("server: {listen: ['0.0.0.0:7071'], tls: {cert: c, key: k}}\n")[0]!.field, "server.listen[0]", "TLS alone is not enough");
  assert.deepEqual(parse("server: {listen: ['0.0.0.0:7071'], insecure: true}\n").server.listen, ["0.0.0.0:7071"]);
  assert.equal(parse("server: {listen: ['0.0.0.0:7071'], insecure: true}\n").server.insecure, true);
  const secured = "server: {listen: ['10.0.0.1:7071'], tls: {cert: c, key: k}, auth: {tokens: [{name: a, file: t, role: viewer}]}}\n";
  assert.deepEqual(parse(secured).server.listen, ["10.0.0.1:7071"]);
});

test("bad security settings are refused, naming the field and the rule", () => {
  const one = (text: string) => {
    const found = problems(text);
    assert.equal(found.length, 1, JSON.stringify(found));
    return found[0]!;
  };
  assert.equal(one("server: {tls: {cert: c.pem}}\n").field, "server.tls.key");
  assert.match(one("server: {tls: {cert: c, key: k, require_client_cert: true}}\n").rule, /client_ca/);
  assert.match(one("server: {auth: {tokens: [{name: a, file: t, role: root}]}}\n").rule, /viewer, operator, admin/);
  const duplicate = one("server: {auth: {tokens: [{name: a, file: t, role: viewer}, {name: a, file: u, role: admin}]}}\n");
  assert.equal(duplicate.field, "server.auth.tokens[1].name");
  assert.match(
    one("server: {auth: {tokens: [{name: a, file: t, value: s3cret, role: viewer}]}}\n").rule,
    /unknown key/,
    "a token is never written in the config itself",
  );
  assert.match(one("server: {tls: {cert: c, key: k, client_ca: ca}, auth: {clients: [{subject: alice, role: viewer}]}}\n").rule, /CN=alice/);
  assert.match(one("server: {tls: {cert: c, key: k}, auth: {clients: [{subject: CN=alice, role: viewer}]}}\n").rule, /client_ca/);
});
