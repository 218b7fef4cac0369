// Messages encoded from their schema (protobuf-es descriptors) straight into one reused
// BackwardWriter, writing the bytes toBinary writes (test/rpc/schema-encoding.test.ts compares
// them). protobuf-es's toBinary goes through its reflection layer and forks and joins a chunk per
// nested message: a StopAll reply of 500 programs took 20-80 ms of the daemon's CPU and ~11 MB
// of garbage that way (issue 19). A message kept with encodeOnce() is encoded the first time only,
// and its bytes are copied into every later reply that carries it (a program's spec).
// Message types this does not handle (groups, required fields, the well-known types protobuf-es
// unboxes: wrappers, Struct, Value, ListValue; maps with keys other than strings) are handed to
// toBinary whole, wherever they are nested.
import { create, ScalarType, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BackwardWriter } from "./backward-writer.js";

const VARINT = 0;
const BIT64 = 1;
const LENGTH = 2;
const BIT32 = 5;
/** google.protobuf.FeatureSet.FieldPresence */
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

/** Message types protobuf-es represents as something other than a message object in a field. */
const UNBOXED = new Set(
  [
    "DoubleValue",
    "FloatValue",
    "Int64Value",
    "UInt64Value",
    "Int32Value",
    "UInt32Value",
    "BoolValue",
    "StringValue",
    "BytesValue",
    "Struct",
    "Value",
    "ListValue",
  ].map((name) => `google.protobuf.${name}`),
);

type Message = Record<string, unknown>;

interface FieldPlan {
  field: DescField;
  name: string;
  oneof?: string;
  explicit: boolean;
  tag: number;
}

/** A message type's fields, last field number first (the order they are written backwards); undefined: toBinary's. */
const plans = new WeakMap<DescMessage, FieldPlan[] | null>();

function wireTypeOf(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LENGTH;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return BIT64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return BIT32;
    default:
      return VARINT;
  }
}

function planOf(desc: DescMessage, visiting = new Set<DescMessage>()): FieldPlan[] | null {
  const known = plans.get(desc);
  if (known !== undefined) return known;
  // A recursive type is planned once; its inner uses see the plan being made.
  if (visiting.has(desc)) return [];
  visiting.add(desc);
  let plan: FieldPlan[] | null = [];
  for (const field of [...desc.fields].sort((a, b) => b.number - a.number)) {
    if (field.presence === LEGACY_REQUIRED) plan = null;
    else if (field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) {
      if (field.delimitedEncoding || UNBOXED.has(field.message.typeName)) plan = null;
      else planOf(field.message, visiting);
    } else if (field.fieldKind === "map") {
      if (field.mapKey !== ScalarType.STRING) plan = null;
      else if (field.mapKind === "message") {
        if (UNBOXED.has(field.message.typeName)) plan = null;
        else planOf(field.message, visiting);
      }
    }
    if (plan === null) break;
    const wire =
      field.fieldKind === "scalar"
        ? wireTypeOf(field.scalar)
        : field.fieldKind === "enum"
          ? VARINT
          : field.fieldKind === "list" && field.packed
            ? LENGTH
            : field.fieldKind === "list" && field.listKind !== "message"
              ? wireTypeOf(field.listKind === "enum" ? ScalarType.INT32 : field.scalar)
              : LENGTH;
    plan.push({ field, name: field.localName, oneof: field.oneof?.localName, explicit: field.presence !== IMPLICIT, tag: field.number * 8 + wire });
  }
  visiting.delete(desc);
  plans.set(desc, plan);
  return plan;
}

const kept = new WeakSet<object>();
const keptBytes = new WeakMap<object, Uint8Array>();

/**
 * Marks a message as sent unchanged in many replies: its bytes are made at its first encoding
 * and copied after that. It must not change afterwards (if it did, the first bytes go out).
 */
export function encodeOnce<T extends object>(message: T): T {
  kept.add(message);
  return message;
}

const writer = new BackwardWriter();

/** The message's bytes, as toBinary(desc, message) writes them (message: as create() makes it, or a plain init object). */
export function encodeMessage(desc: DescMessage, message: object): Uint8Array {
  if (planOf(desc) === null) return viaToBinary(desc, message);
  try {
    writeFields(writer, desc, message as Message);
    return writer.take();
  } finally {
    writer.reset();
  }
}

function writeFields(w: BackwardWriter, desc: DescMessage, message: Message): void {
  const unknown = message.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined;
  if (unknown) {
    for (let i = unknown.length - 1; i >= 0; i--) {
      const { no, wireType, data } = unknown[i]!;
      w.raw(data);
      w.tag(no * 8 + wireType);
    }
  }
  for (const plan of plans.get(desc)!) {
    let value: unknown;
    if (plan.oneof !== undefined) {
      const selected = message[plan.oneof] as { case?: string; value?: unknown } | undefined;
      if (selected?.case !== plan.name) continue;
      value = selected.value;
    } else {
      value = message[plan.name];
      if (value === undefined) continue;
      if (plan.explicit && !Object.hasOwn(message, plan.name)) continue;
    }
    writeField(w, plan, value);
  }
}

function writeField(w: BackwardWriter, plan: FieldPlan, value: unknown): void {
  const field = plan.field;
  switch (field.fieldKind) {
    case "scalar":
      if (!plan.explicit && isZero(field.scalar, value)) return;
      writeScalar(w, field.scalar, value);
      w.tag(plan.tag);
      return;
    case "enum":
      if (!plan.explicit && value === field.enum.values[0]?.number) return;
      w.signed(value as number);
      w.tag(plan.tag);
      return;
    case "message":
      writeMessage(w, field.message, value as Message, plan.tag);
      return;
    case "list": {
      const list = value as unknown[];
      if (list.length === 0) return;
      if (field.listKind === "message") {
        for (let i = list.length - 1; i >= 0; i--) writeMessage(w, field.message, list[i] as Message, plan.tag);
        return;
      }
      const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
      if (field.packed) {
        const mark = w.written;
        for (let i = list.length - 1; i >= 0; i--) writeScalar(w, scalar, list[i]);
        w.close(plan.tag, mark);
        return;
      }
      for (let i = list.length - 1; i >= 0; i--) {
        writeScalar(w, scalar, list[i]);
        w.tag(plan.tag);
      }
      return;
    }
    case "map": {
      const entries = value as Record<string, unknown>;
      const keys = Object.keys(entries);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const mark = w.written;
        const item = entries[key];
        if (field.mapKind === "message") writeMessage(w, field.message, item as Message, 2 * 8 + LENGTH);
        else {
          const scalar = field.mapKind === "enum" ? ScalarType.INT32 : field.scalar;
          writeScalar(w, scalar, item);
          w.tag(2 * 8 + (field.mapKind === "enum" ? VARINT : wireTypeOf(scalar)));
        }
        w.string(key);
        w.tag(1 * 8 + LENGTH);
        w.close(plan.tag, mark);
      }
      return;
    }
  }
}

function writeMessage(w: BackwardWriter, desc: DescMessage, message: Message, tag: number): void {
  if (kept.has(message)) {
    let bytes = keptBytes.get(message);
    if (bytes === undefined) {
      bytes = encodeKept(desc, message);
      keptBytes.set(message, bytes);
    }
    w.raw(bytes);
    w.varint(bytes.length);
    w.tag(tag);
    return;
  }
  if (planOf(desc) === null) {
    const bytes = viaToBinary(desc, message);
    w.raw(bytes);
    w.varint(bytes.length);
  } else {
    const mark = w.written;
    writeFields(w, desc, message);
    w.varint(w.written - mark);
  }
  w.tag(tag);
}

/** A kept message's own bytes, made with a writer of their own (the shared one is in use). */
function encodeKept(desc: DescMessage, message: Message): Uint8Array {
  if (planOf(desc) === null) return viaToBinary(desc, message);
  const own = new BackwardWriter(256);
  writeFields(own, desc, message);
  return own.take();
}

/** A type this module leaves to protobuf-es (as the generated encoders call it). */
function viaToBinary(desc: DescMessage, message: object): Uint8Array {
  return toBinary(desc, create(desc, message as never));
}

function isZero(scalar: ScalarType, value: unknown): boolean {
  switch (scalar) {
    case ScalarType.STRING:
      return value === "";
    case ScalarType.BOOL:
      return value === false;
    case ScalarType.BYTES:
      return (value as Uint8Array).length === 0;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      // -0 is not the zero value (protobuf-es writes it).
      return Object.is(value, 0);
    default:
      return value === 0 || value === 0n || value === "0";
  }
}

function writeScalar(w: BackwardWriter, scalar: ScalarType, value: unknown): void {
  switch (scalar) {
    case ScalarType.STRING:
      w.string(value as string);
      return;
    case ScalarType.BOOL:
      w.varint(value ? 1 : 0);
      return;
    case ScalarType.INT32:
      w.signed(value as number);
      return;
    case ScalarType.UINT32:
      w.varint((value as number) >>> 0);
      return;
    case ScalarType.SINT32: {
      const v = value as number;
      w.varint(((v << 1) ^ (v >> 31)) >>> 0);
      return;
    }
    case ScalarType.INT64:
    case ScalarType.UINT64:
      w.varint64(BigInt.asUintN(64, BigInt(value as bigint)));
      return;
    case ScalarType.SINT64: {
      const v = BigInt.asIntN(64, BigInt(value as bigint));
      w.varint64(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
      return;
    }
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      w.fixed64(BigInt.asUintN(64, BigInt(value as bigint)));
      return;
    case ScalarType.FIXED32:
      w.fixed32((value as number) >>> 0);
      return;
    case ScalarType.SFIXED32:
      w.fixed32((value as number) >>> 0);
      return;
    case ScalarType.DOUBLE:
      w.double(value as number);
      return;
    case ScalarType.FLOAT:
      w.float(value as number);
      return;
    case ScalarType.BYTES: {
      const bytes = value as Uint8Array;
      w.raw(bytes);
      w.varint(bytes.length);
      return;
    }
  }
}
