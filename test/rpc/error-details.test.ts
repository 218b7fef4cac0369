// Every outcome with its right code and its typed details on the wire (google.rpc.Status in
// grpc-status-details-bin): a start that ends FATAL fails, per program in StartAll too; bad input
// carries BadRequest; config problems one violation each; ErrorInfo reasons are stable words.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { detailsOfStatus, errorDetails, ERROR_DOMAIN, Status, TaskHandle } from "../../client/ts/index.js";
import { repoRoot, rpcError, startTestDaemon, type TestDaemon } from "../helpers/daemon.js";

const fixtureModule = join(repoRoot, "dist/test/fixtures/tasks.js");

describe("error codes and details", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;

  before(async () => {
    daemon = await startTestDaemon({
      configYaml: JSON.stringify({
        programs: {
          // Exits at once, every time: after its retries it is FATAL.
          quick: { command: ["sh", "-c", "echo bye; exit 3"], autostart: false, startsecs: "1s", startretries: 1, backoff: { initial: "10ms" } },
          sleeper: { command: ["sleep", "30"], autostart: false, startsecs: "100ms", stop_timeout: "2s" },
        },
        tasks: { modules: [fixtureModule] },
      }),
    });
  });

  after(async () => {
    await daemon?.stop();
  });

  test("a StartProcess that ends FATAL fails with FAILED_PRECONDITION, PROGRAM_FATAL, the reason and the last run", async () => {
    const error = await rpcError(pm().startProcess({ name: "quick" }));
    assert.equal(error.code, Status.FAILED_PRECONDITION, error.details);
    assert.match(error.details, /quick is FATAL: .*; last run \d+ \(pid \d+\) exited with code 3/);
    const details = errorDetails(error);
    assert.equal(details.reason, "PROGRAM_FATAL");
    assert.equal(details.errorInfo?.domain, ERROR_DOMAIN);
    assert.equal(details.errorInfo?.metadata.program, "quick");
    assert.equal(details.errorInfo?.metadata.exit_code, "3");
    assert.match(details.errorInfo?.metadata.run_id ?? "", /^\d+$/);
    assert.equal(details.preconditionFailure?.violations[0]?.subject, "program/quick");
    assert.equal(details.resourceInfo?.resourceType, "program");
    assert.equal(details.resourceInfo?.resourceName, "quick");
  });

  test("StartAll reports a FATAL program as its own failed result with the same status; the others start", async () => {
    const { results } = await pm().startAll({});
    const quick = results.find((r) => r.name === "quick");
    const sleeper = results.find((r) => r.name === "sleeper");
    assert.equal(sleeper?.ok, true, sleeper?.error);
    assert.equal(quick?.ok, false);
    assert.equal(quick?.code, Status.FAILED_PRECONDITION, quick?.error);
    assert.ok(quick?.status, "the result carries a google.rpc.Status");
    assert.equal(quick.status.code, quick.code);
    assert.equal(detailsOfStatus(quick.status).reason, "PROGRAM_FATAL");
    await pm().stopAll({});
  });

  test("an unknown program is NOT_FOUND with PROGRAM_NOT_FOUND and ResourceInfo", async () => {
    const error = await rpcError(pm().getProcess({ name: "nope" }));
    assert.equal(error.code, Status.NOT_FOUND);
    const details = errorDetails(error);
    assert.equal(details.reason, "PROGRAM_NOT_FOUND");
    assert.equal(details.errorInfo?.metadata.program, "nope");
    assert.deepEqual([details.resourceInfo?.resourceType, details.resourceInfo?.resourceName], ["program", "nope"]);
  });

  test("a second start is ALREADY_RUNNING with a PreconditionFailure", async () => {
    await pm().startProcess({ name: "sleeper" });
    try {
      const error = await rpcError(pm().startProcess({ name: "sleeper" }));
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      const details = errorDetails(error);
      assert.equal(details.reason, "ALREADY_RUNNING");
      assert.equal(details.preconditionFailure?.violations[0]?.type, "STATE");
      assert.equal(details.preconditionFailure?.violations[0]?.subject, "program/sleeper");
    } finally {
      await pm().stopProcess({ name: "sleeper" });
    }
  });

  test("bad input is INVALID_ARGUMENT with a BadRequest field violation naming the value and the rule", async () => {
    const error = await rpcError(pm().signalProcess({ name: "sleeper", signal: "SIGNOPE" }));
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    const details = errorDetails(error);
    assert.equal(details.reason, "INVALID_ARGUMENT");
    const violation = details.badRequest?.fieldViolations[0];
    assert.equal(violation?.field, "signal");
    assert.match(violation?.description ?? "", /"SIGNOPE"/);
  });

  test("an invalid config comes back as one field violation per problem, each with file:line:col", async () => {
    const text = ["programs:", "  a:", "    command: [sleep, '300']", "    startsecs: soon", "  zz:", "    autorestart: sometimes", ""].join("\n");
    const error = await rpcError(pm().applyConfig({ source: { case: "text", value: text } }));
    assert.equal(error.code, Status.INVALID_ARGUMENT);
    const details = errorDetails(error);
    assert.equal(details.reason, "CONFIG_INVALID");
    const violations = details.badRequest?.fieldViolations ?? [];
    assert.deepEqual(
      violations.map((v) => v.field),
      ["programs.a.startsecs", "programs.zz.command", "programs.zz.autorestart"],
    );
    for (const v of violations) assert.match(v.description, /^<ApplyConfig text>:\d+:\d+: /);
    assert.match(violations[0]!.description, /:4:\d+: bad duration "soon"/);
  });

  test("a locked task refuses another client with TASK_LOCKED and a LOCK precondition", async () => {
    const owner = new TaskHandle(daemon.client.taskRunner, "locked-1");
    await daemon.client.taskRunner.createTask({ name: "locked-1", type: "counter" });
    assert.equal(await owner.lock(), true);
    try {
      const error = await rpcError(daemon.client.taskRunner.startTask({ name: "locked-1" }));
      assert.equal(error.code, Status.FAILED_PRECONDITION);
      const details = errorDetails(error);
      assert.equal(details.reason, "TASK_LOCKED");
      assert.equal(details.preconditionFailure?.violations[0]?.type, "LOCK");
      assert.equal(details.preconditionFailure?.violations[0]?.subject, "task/locked-1");
    } finally {
      await owner.unlock();
    }
  });
});
