// A program's spec goes out in every ProcessInfo (GetProcess, ListProcesses, Start/Stop and the
// bulk results), unchanged until its config is: process-to-proto.ts builds the message once per
// config, and here it is encoded once too (over half of encoding a GetProcess reply was its ~30
// fields). The gRPC encoders of the methods that reply with ProcessInfo encode the whole reply
// from its schema (schema-encoding.ts: the bytes toBinary writes, a kept spec copied in at its
// place), which also spares the reflective toBinary its cost per result (a StopAll reply of
// 500 programs took 20-80 ms of CPU and ~11 MB of garbage, issue 19). The reply objects
// themselves are not changed (the Connect bridge encodes its own way).
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import type { ServiceDefinition } from "nice-grpc";
import { ProcessInfoSchema, type ProgramSpec } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { encodeMessage, encodeOnce } from "./schema-encoding.js";

/** Marks a spec as built once and sent as it is in many replies; its bytes are kept with it (as long as the spec). */
export function encodeSpecOnce(spec: ProgramSpec): ProgramSpec {
  return encodeOnce(spec);
}

/** Whether a message type holds ProcessInfo somewhere (a field holding one, a list of them, or messages that hold some). */
function holdsProcessInfo(desc: DescMessage, depth = 0): boolean {
  if (depth > 3) return false;
  return desc.fields.some((field) => {
    const message = field.fieldKind === "message" ? field.message : field.fieldKind === "list" && field.listKind === "message" ? field.message : undefined;
    return message !== undefined && (message.typeName === ProcessInfoSchema.typeName || holdsProcessInfo(message, depth + 1));
  });
}

/** The definition with the encoder of each unary method replying with ProcessInfo writing its reply from the schema. */
export function withKeptSpecEncoding<D extends ServiceDefinition>(definition: D, service: DescService): D {
  const methods = Object.entries(definition).map(([name, method]) => {
    const desc = service.methods.find((m) => m.localName === name);
    if (!desc || method.responseStream || !holdsProcessInfo(desc.output)) return [name, method];
    const output = desc.output;
    return [name, { ...method, responseSerialize: (value: unknown) => encodeMessage(output, value as object) }];
  });
  return Object.fromEntries(methods) as D;
}
