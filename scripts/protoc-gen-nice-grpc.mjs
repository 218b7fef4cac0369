#!/usr/bin/env node
// A local buf plugin: writes, for every proto file with services, `<file>_nice_grpc.ts` beside
// protoc-gen-es's `<file>_pb.ts`: one nice-grpc service definition per service (path, stream
// flags, protobuf-es binary (de)serialisers, idempotency). No npm package bridges protobuf-es v2
// and nice-grpc, and generating the definitions keeps everything under gen/ generated.
import { createEcmaScriptPlugin, runNodeJs } from "@bufbuild/protoplugin";

const IDEMPOTENCY = { 1: "NO_SIDE_EFFECTS", 2: "IDEMPOTENT" };

function generateTs(schema) {
  for (const file of schema.files) {
    if (file.services.length === 0) continue;
    const f = schema.generateFile(`${file.name}_nice_grpc.ts`);
    f.preamble(file);
    const { create, fromBinary, toBinary } = f.runtime;
    const initShape = f.import("MessageInitShape", "@bufbuild/protobuf", true);
    for (const service of file.services) {
      f.print(f.jsDoc(service));
      f.print(f.export("const", `${service.name}Definition`), " = {");
      for (const method of service.methods) {
        const codec = (desc) => {
          const schemaSymbol = f.importSchema(desc);
          return {
            serialize: [
              `(value: `,
              initShape,
              `<typeof `,
              schemaSymbol,
              `>): Uint8Array => `,
              toBinary,
              `(`,
              schemaSymbol,
              `, `,
              create,
              `(`,
              schemaSymbol,
              `, value))`,
            ],
            deserialize: [`(bytes: Uint8Array): `, f.importShape(desc), ` => `, fromBinary, `(`, schemaSymbol, `, bytes)`],
          };
        };
        const request = codec(method.input);
        const response = codec(method.output);
        const level = IDEMPOTENCY[method.idempotency];
        f.print(f.jsDoc(method, "  "));
        f.print("  ", method.localName, ": {");
        f.print("    path: ", f.string(`/${service.typeName}/${method.name}`), ",");
        f.print("    requestStream: ", method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? "true" : "false", ",");
        f.print("    responseStream: ", method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming" ? "true" : "false", ",");
        f.print("    requestSerialize: ", ...request.serialize, ",");
        f.print("    requestDeserialize: ", ...request.deserialize, ",");
        f.print("    responseSerialize: ", ...response.serialize, ",");
        f.print("    responseDeserialize: ", ...response.deserialize, ",");
        f.print("    options: ", level ? `{ idempotencyLevel: ${JSON.stringify(level)} }` : "{}", ",");
        f.print("  },");
      }
      f.print("} as const;");
      f.print();
    }
  }
}

runNodeJs(createEcmaScriptPlugin({ name: "protoc-gen-nice-grpc", version: "v1", generateTs }));
