#!/usr/bin/env node
// A buf plugin wrapper: runs the plugin given as arguments on the corral/ files only. The
// vendored google/rpc protos are generated for TypeScript, but Python and Go take them from
// googleapis-common-protos and google.golang.org/genproto, as users of those ecosystems expect
// (buf's exclude_types would instead drop the fields that refer to google.rpc types).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema, CodeGeneratorResponse_Feature } from "@bufbuild/protobuf/wkt";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: protoc-gen-only-corral.mjs PLUGIN [ARGS...] (reads a CodeGeneratorRequest on stdin)");
  process.exit(2);
}
const request = fromBinary(CodeGeneratorRequestSchema, readFileSync(0));
request.fileToGenerate = request.fileToGenerate.filter((file) => file.startsWith("corral/"));
// buf calls a plugin once per directory: for google/rpc alone there is nothing to generate.
if (request.fileToGenerate.length === 0) {
  const features = BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL);
  process.stdout.write(toBinary(CodeGeneratorResponseSchema, create(CodeGeneratorResponseSchema, { supportedFeatures: features })));
} else {
  const result = spawnSync(command, args, {
    input: toBinary(CodeGeneratorRequestSchema, request),
    stdio: ["pipe", "pipe", "inherit"],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  // exitCode, not exit(): a pipe's write may still be pending, and exit() would cut it short.
  process.stdout.write(result.stdout);
  process.exitCode = result.status ?? 1;
}
