// The role table is the whole authorization policy: it must name every method the daemon
// serves, no method it does not serve, and keep the documented order of roles.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HealthDefinition } from "nice-grpc-server-health";
import { ProcessManager, ProcessMonitor, TaskRunner } from "../../client/ts/index.js";
import { METHOD_ROLES, requirementOf, roleAllows } from "../../server/rpc/method-roles.js";
import { REFLECTION_METHOD_PATHS } from "../../server/rpc/reflection.js";

function servedPaths(): string[] {
  const ours = [ProcessManager, TaskRunner, ProcessMonitor].flatMap((service) => service.methods.map((method) => `/${service.typeName}/${method.name}`));
  const health = Object.values(HealthDefinition.methods).map((method) => `/${HealthDefinition.fullName}/${method.name}`);
  return [...ours, ...health, ...REFLECTION_METHOD_PATHS];
}

test("every method of every served service has exactly one entry in the role table", () => {
  const served = servedPaths();
  assert.ok(served.length > 40, `found ${served.length} methods`);
  const missing = served.filter((path) => !(path in METHOD_ROLES));
  assert.deepEqual(missing, [], "methods without a role");
  const stale = Object.keys(METHOD_ROLES).filter((path) => !served.includes(path));
  assert.deepEqual(stale, [], "table entries for methods no service has");
});

test("roles are ordered viewer < operator < admin, and an unknown method needs admin", () => {
  assert.equal(requirementOf("/corral.v1.ProcessManager/GetProcess"), "viewer");
  assert.equal(requirementOf("/corral.v1.ProcessManager/StopProcess"), "operator");
  assert.equal(requirementOf("/corral.v1.ProcessManager/Shutdown"), "admin");
  assert.equal(requirementOf("/corral.v1.ProcessManager/NoSuchMethod"), "admin");
  assert.equal(requirementOf("/grpc.health.v1.Health/Check"), "open");
  assert.ok(roleAllows("viewer", "open") && roleAllows("viewer", "viewer") && !roleAllows("viewer", "operator"));
  assert.ok(roleAllows("operator", "viewer") && roleAllows("operator", "operator") && !roleAllows("operator", "admin"));
  assert.ok(roleAllows("admin", "admin") && roleAllows("admin", "viewer"));
});
