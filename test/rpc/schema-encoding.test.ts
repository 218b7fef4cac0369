// server/rpc/schema-encoding.ts writes the bytes toBinary writes, for every message type of the
// contract filled with every kind of value (and with nothing set), and keeps a message's bytes
// once it is marked with encodeOnce.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, ScalarType, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { file_corral_v1_process_manager, ProcessInfoSchema, ProgramSpecSchema, StopAllResponseSchema } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { file_corral_v1_process_monitor } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { file_corral_v1_task_runner } from "../../gen/ts/corral/v1/task_runner_pb.js";
import { file_google_rpc_error_details } from "../../gen/ts/google/rpc/error_details_pb.js";
import { encodeMessage, encodeOnce } from "../../server/rpc/schema-encoding.js";

const messages = [file_corral_v1_process_manager, file_corral_v1_process_monitor, file_corral_v1_task_runner, file_google_rpc_error_details].flatMap((file) =>
  [...nestedTypes(file)].filter((type): type is DescMessage => type.kind === "message"),
);

/** A small deterministic generator, so a failure repeats. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const strings = ["", "a", "p42", "ünïcödé ✓", "x".repeat(200), "stopped by request; killed by SIGTERM"];
const numbers = [0, 1, 127, 128, 300, 2 ** 31 - 1, -1, -(2 ** 31)];
const bigints = [0n, 1n, 128n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 63n)];
const doubles = [0, -0, 1.5, -2.25, 1e300, Number.MIN_VALUE];

function scalarValue(scalar: ScalarType, pick: () => number): unknown {
  const one = <T>(values: readonly T[]) => values[Math.floor(pick() * values.length)]!;
  switch (scalar) {
    case ScalarType.STRING:
      return one(strings);
    case ScalarType.BOOL:
      return pick() < 0.5;
    case ScalarType.BYTES:
      return one([new Uint8Array(), new Uint8Array([1, 2, 255]), new Uint8Array(300).fill(7)]);
    case ScalarType.DOUBLE:
      return one(doubles);
    case ScalarType.FLOAT:
      return one([0, -0, 1.5, -2.25]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return one(numbers) >>> 0;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return one(numbers);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt.asUintN(64, one(bigints));
    default:
      return one(bigints);
  }
}

function fieldValue(field: DescField, pick: () => number, depth: number): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalarValue(field.scalar, pick);
    case "enum":
      return field.enum.values[Math.floor(pick() * field.enum.values.length)]!.number;
    case "message":
      return depth > 3 ? undefined : filled(field.message, pick, depth + 1);
    case "list":
      if (field.listKind === "message") return depth > 3 ? [] : [filled(field.message, pick, depth + 1), create(field.message)];
      if (field.listKind === "enum") return field.enum.values.map((v) => v.number);
      return [scalarValue(field.scalar, pick), scalarValue(field.scalar, pick)];
    case "map": {
      const value = () =>
        field.mapKind === "message"
          ? filled(field.message, pick, depth + 1)
          : field.mapKind === "enum"
            ? field.enum.values.at(-1)!.number
            : scalarValue(field.scalar, pick);
      return depth > 3 ? {} : { "": value(), b: value(), ключ: value() };
    }
  }
}

function filled(desc: DescMessage, pick: () => number, depth = 0): Record<string, unknown> {
  const message = create(desc) as unknown as Record<string, unknown>;
  for (const field of desc.fields) {
    if (pick() < 0.15) continue; // some fields left unset
    const value = fieldValue(field, pick, depth);
    if (value === undefined) continue;
    if (field.oneof) message[field.oneof.localName] = { case: field.localName, value };
    else message[field.localName] = value;
  }
  return message;
}

const bytes = (data: Uint8Array) => Buffer.from(data).toString("hex");

test("every message type of the contract is encoded to toBinary's bytes, filled with every kind of value or empty", () => {
  assert.ok(messages.length > 50, `found ${messages.length} message types`);
  for (const desc of messages) {
    assert.deepEqual(bytes(encodeMessage(desc, create(desc))), bytes(toBinary(desc, create(desc))), `${desc.typeName} empty`);
    for (let seed = 1; seed <= 20; seed++) {
      const message = filled(desc, random(seed * 7919 + desc.typeName.length));
      const expected = toBinary(desc, message as never);
      assert.deepEqual(bytes(encodeMessage(desc, message)), bytes(expected), `${desc.typeName}, seed ${seed}`);
    }
  }
});

test("a plain init object is encoded as create() makes it (as the generated encoders do)", () => {
  const init = { results: [{ name: "a", ok: true, process: { name: "a", state: 3, run: { pid: 42, runId: 7n } }, shutdown: { pid: 42, how: 1 } }] };
  assert.deepEqual(bytes(encodeMessage(StopAllResponseSchema, init)), bytes(toBinary(StopAllResponseSchema, create(StopAllResponseSchema, init as never))));
});

test("a message marked with encodeOnce is encoded at its first use: later changes do not reach the wire", () => {
  const spec = encodeOnce(create(ProgramSpecSchema, { name: "a", command: ["sleep", "300"], env: { A: "1" } }));
  const info = create(ProcessInfoSchema, { name: "a", spec });
  const first = encodeMessage(ProcessInfoSchema, info);
  assert.deepEqual(bytes(first), bytes(toBinary(ProcessInfoSchema, info)));
  spec.command = ["changed"];
  assert.deepEqual(bytes(encodeMessage(ProcessInfoSchema, info)), bytes(first));
});
