// The gRPC encoders that write a shared program spec from its kept bytes (server/rpc/spec-encoding.ts):
// what a client decodes is the reply as built, whatever holds the ProcessInfo, and the reply
// objects are left as they were.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import { ProcessManagerDefinition } from "../../gen/ts/corral/v1/process_manager_nice_grpc.js";
import {
  GetProcessResponseSchema,
  ListProcessesResponseSchema,
  ProcessInfoSchema,
  ProcessManager,
  ProcessState,
  ProgramSpecSchema,
  StartAllResponseSchema,
  type ProcessInfo,
} from "../../gen/ts/corral/v1/process_manager_pb.js";
import { encodeSpecOnce, withKeptSpecEncoding } from "../../server/rpc/spec-encoding.js";

const kept = withKeptSpecEncoding(ProcessManagerDefinition, ProcessManager);

function spec(name: string) {
  return create(ProgramSpecSchema, {
    name,
    command: ["sleep", "300"],
    env: { COLOUR: "green" },
    labels: { tier: "web" },
    startsecs: { seconds: 1n },
    backoff: { multiplier: 2, initial: { seconds: 1n } },
    log: { maxBytes: 1024n, backups: 3 },
  });
}

function info(name: string, shared: boolean): ProcessInfo {
  return create(ProcessInfoSchema, {
    name,
    state: ProcessState.RUNNING,
    stateReason: "up",
    stateSince: { seconds: 1_700_000_000n, nanos: 5 },
    run: { runId: 7n, pid: 4242, startedAt: { seconds: 1_700_000_000n } },
    restarts: 2,
    spec: shared ? encodeSpecOnce(spec(name)) : spec(name),
    labels: { tier: "web" },
    ready: true,
    host: "here",
    uptime: { seconds: 3n, nanos: 1_000 },
  });
}

test("a reply whose specs are written from their kept bytes decodes to the reply as built (single, list and nested ProcessInfo)", () => {
  const cases = [
    { method: kept.getProcess, plain: ProcessManagerDefinition.getProcess, schema: GetProcessResponseSchema, reply: { process: info("a", true) } },
    {
      method: kept.listProcesses,
      plain: ProcessManagerDefinition.listProcesses,
      schema: ListProcessesResponseSchema,
      reply: { processes: [info("a", true), info("b", false), info("c", true)] },
    },
    {
      method: kept.startAll,
      plain: ProcessManagerDefinition.startAll,
      schema: StartAllResponseSchema,
      reply: {
        results: [
          { name: "a", ok: true, process: info("a", true) },
          { name: "b", ok: false, error: "no", code: 9, process: info("b", true) },
        ],
      },
    },
  ];
  for (const { method, plain, schema, reply } of cases) {
    const before = structuredClone(reply);
    const decoded = plain.responseDeserialize(method.responseSerialize(reply as never) as Buffer);
    assert.ok(equals(schema, decoded as never, create(schema, reply as never) as never), `${method.path}: decoded as built`);
    assert.deepEqual(reply, before, `${method.path}: the reply object is unchanged`);
  }
});

test("a shared spec is encoded once: later replies carry its first bytes, in a ProcessInfo of its own or inside bulk results", () => {
  const shared = info("a", true);
  const single = () => kept.getProcess.responseSerialize({ process: shared });
  const bulk = () => kept.startAll.responseSerialize({ results: [{ name: "a", ok: true, process: shared }] });
  const first = { single: single(), bulk: bulk() };
  // A shared spec must not change once sent; if it did, the kept bytes are what goes out.
  shared.spec!.command = ["changed"];
  assert.deepEqual(single(), first.single);
  assert.deepEqual(bulk(), first.bulk);
  assert.deepEqual(ProcessManagerDefinition.getProcess.responseDeserialize(first.single as Buffer).process?.spec?.command, ["sleep", "300"]);
});
