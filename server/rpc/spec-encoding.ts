// A program's spec goes out in every ProcessInfo (GetProcess, ListProcesses, Start/Stop and the
// bulk results), unchanged until its config is: process-to-proto.ts builds the message once per
// config, and here it is encoded once too. The gRPC encoders of the methods that reply with
// ProcessInfo write a shared spec's kept bytes as field 8 instead of encoding its ~30 fields
// again (over half of encoding a GetProcess reply). The bytes on the wire say the same message:
// the field only moves behind the others, and a parser takes fields in any order. The reply
// objects themselves are not changed (the Connect bridge encodes its own way).
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { ServiceDefinition } from "nice-grpc";
import { ProcessInfoSchema, ProgramSpecSchema, type ProcessInfo, type ProgramSpec } from "../../gen/ts/corral/v1/process_manager_pb.js";

const SPEC_FIELD = ProcessInfoSchema.field.spec.number;
/** Specs built once per config (they must not change afterwards), and their encoded field 8 payload. */
const shared = new WeakSet<ProgramSpec>();
const encoded = new WeakMap<ProgramSpec, Uint8Array>();

/** Marks a spec as built once and sent as it is in many replies; its bytes are kept with it (a WeakMap: as long as the spec). */
export function encodeSpecOnce(spec: ProgramSpec): ProgramSpec {
  shared.add(spec);
  return spec;
}

/** The field's payload as protobuf-es keeps an unknown field: the length, then the bytes. */
function specPayload(spec: ProgramSpec): Uint8Array {
  let bytes = encoded.get(spec);
  if (bytes === undefined) {
    bytes = new BinaryWriter().bytes(toBinary(ProgramSpecSchema, spec)).finish();
    encoded.set(spec, bytes);
  }
  return bytes;
}

function withKeptSpec(info: ProcessInfo): ProcessInfo {
  const spec = info.spec;
  if (spec === undefined || !shared.has(spec)) return info;
  const field = { no: SPEC_FIELD, wireType: WireType.LengthDelimited, data: specPayload(spec) };
  return { ...info, spec: undefined, $unknown: [...(info.$unknown ?? []), field] };
}

/** Where ProcessInfo messages sit in a reply: a field holding one, a list of them, or messages that hold some. */
type Path = { field: string; list: boolean; info: true } | { field: string; list: boolean; info: false; inner: Path[] };

function pathsTo(desc: DescMessage, depth = 0): Path[] {
  if (depth > 3) return [];
  const paths: Path[] = [];
  for (const field of desc.fields) {
    const message = field.fieldKind === "message" ? field.message : field.fieldKind === "list" && field.listKind === "message" ? field.message : undefined;
    if (message === undefined) continue;
    const list = field.fieldKind === "list";
    if (message.typeName === ProcessInfoSchema.typeName) {
      paths.push({ field: field.localName, list, info: true });
      continue;
    }
    const inner = pathsTo(message, depth + 1);
    if (inner.length > 0) paths.push({ field: field.localName, list, info: false, inner });
  }
  return paths;
}

type Value = Record<string, unknown>;

function rewrite(value: Value, paths: Path[]): Value {
  let copy: Value | undefined;
  for (const path of paths) {
    const at = value[path.field];
    if (at === undefined || at === null) continue;
    const one = (item: unknown) => (path.info ? withKeptSpec(item as ProcessInfo) : rewrite(item as Value, path.inner));
    copy ??= { ...value };
    copy[path.field] = path.list ? (at as unknown[]).map(one) : one(at);
  }
  return copy ?? value;
}

/** The definition with the encoder of each unary method replying with ProcessInfo writing shared specs from their kept bytes. */
export function withKeptSpecEncoding<D extends ServiceDefinition>(definition: D, service: DescService): D {
  const methods = Object.entries(definition).map(([name, method]) => {
    const desc = service.methods.find((m) => m.localName === name);
    const paths = desc && !method.responseStream ? pathsTo(desc.output) : [];
    if (paths.length === 0) return [name, method];
    const serialize = method.responseSerialize;
    return [name, { ...method, responseSerialize: (value: unknown) => serialize(rewrite(value as Value, paths)) }];
  });
  return Object.fromEntries(methods) as D;
}
