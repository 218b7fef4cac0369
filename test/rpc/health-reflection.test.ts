// Generic gRPC tooling works against the daemon: grpc.health.v1 reports SERVING and
// grpc.reflection.v1 and v1alpha describe corral.v1.ProcessManager, TaskRunner and
// ProcessMonitor, comments included (what grpcurl, grpc_cli, Evans and Postman need).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createChannel, createClient, type Channel } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import reflectionPb from "nice-grpc-server-reflection/lib/proto/grpc/reflection/v1/reflection_pb.js";
import { repoRoot, startTestDaemon, type TestDaemon } from "../helpers/daemon.js";
import { ServerReflectionV1AlphaService } from "../../server/rpc/reflection.js";
import { ProcessManager as ProcessManagerDesc } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { ProcessMonitor as ProcessMonitorDesc } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { TaskRunner as TaskRunnerDesc } from "../../gen/ts/corral/v1/task_runner_pb.js";

// grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
const SERVING = 1;

describe("generic gRPC services", () => {
  let daemon: TestDaemon;
  let channel: Channel;

  before(async () => {
    daemon = await startTestDaemon({ programs: { idle: { command: ["sleep", "30"], autostart: false } } });
    channel = createChannel(daemon.address);
  });

  after(async () => {
    channel?.close();
    await daemon?.stop();
  });

  test("health reports SERVING for the server and for corral.v1.ProcessManager", async () => {
    const health = createClient(HealthDefinition, channel);
    assert.equal((await health.check({ service: "" })).status, SERVING);
    assert.equal((await health.check({ service: "corral.v1.ProcessManager" })).status, SERVING);
  });

  /** One request on the bidi reflection stream, one response back. */
  async function reflect(request: reflectionPb.ServerReflectionRequest, version: "v1" | "v1alpha" = "v1"): Promise<reflectionPb.ServerReflectionResponse> {
    // v1alpha has v1's messages under another package name: only the path differs on the wire.
    const reflection = createClient(version === "v1" ? ServerReflectionService : ServerReflectionV1AlphaService, channel);
    async function* requests() {
      yield request;
    }
    for await (const response of reflection.serverReflectionInfo(requests())) return response;
    assert.fail("reflection answered nothing");
  }

  test("reflection lists corral.v1.ProcessManager, and gRPC health and reflection themselves", async () => {
    const response = await reflect(new reflectionPb.ServerReflectionRequest().setListServices("*"));
    const names = response
      .getListServicesResponse()
      ?.getServiceList()
      .map((service) => service.getName());
    for (const name of ["corral.v1.ProcessManager", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"])
      assert.ok(names?.includes(name), `${name} in ${names?.join(", ")}`);
  });

  test("reflection lists corral.v1.TaskRunner and corral.v1.ProcessMonitor and serves every method of each", async () => {
    const list = await reflect(new reflectionPb.ServerReflectionRequest().setListServices("*"));
    const names =
      list
        .getListServicesResponse()
        ?.getServiceList()
        .map((service) => service.getName()) ?? [];
    for (const desc of [TaskRunnerDesc, ProcessMonitorDesc]) {
      assert.ok(names.includes(desc.typeName), `${desc.typeName} in ${names.join(", ")}`);
      const response = await reflect(new reflectionPb.ServerReflectionRequest().setFileContainingSymbol(desc.typeName));
      const files = (response.getFileDescriptorResponse()?.getFileDescriptorProtoList_asU8() ?? []).map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes),
      );
      const service = files.find((file) => file.name === desc.file.proto.name)?.service.find((s) => s.name === desc.name);
      assert.deepEqual(
        service?.method.map((method) => method.name),
        desc.methods.map((method) => method.name),
        desc.typeName,
      );
      const health = createClient(HealthDefinition, channel);
      assert.equal((await health.check({ service: desc.typeName })).status, SERVING);
    }
  });

  test("reflection serves the descriptor of corral.v1.ProcessManager with its imports", async () => {
    const response = await reflect(new reflectionPb.ServerReflectionRequest().setFileContainingSymbol("corral.v1.ProcessManager"));
    const files = (response.getFileDescriptorResponse()?.getFileDescriptorProtoList_asU8() ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const names = files.map((file) => file.name);
    assert.ok(names.includes("corral/v1/process_manager.proto"), `files: ${names.join(", ")}`);
    const main = files.find((file) => file.name === "corral/v1/process_manager.proto");
    assert.deepEqual(main?.dependency, [
      "corral/v1/sequence.proto",
      "google/protobuf/duration.proto",
      "google/protobuf/timestamp.proto",
      "google/rpc/status.proto",
    ]);
    const methods = main?.service.find((service) => service.name === "ProcessManager")?.method.map((method) => method.name);
    // Every method of the contract, as generated from the proto (not a hand-kept count).
    assert.deepEqual(
      methods,
      ProcessManagerDesc.methods.map((method) => method.name),
    );
    assert.ok(methods?.includes("FollowLogs") && methods.includes("WriteStdin"));
  });

  test("reflection v1alpha (older grpc_cli, Evans, Postman) lists and describes what v1 does", async () => {
    const list = async (version: "v1" | "v1alpha") =>
      (await reflect(new reflectionPb.ServerReflectionRequest().setListServices("*"), version))
        .getListServicesResponse()
        ?.getServiceList()
        .map((service) => service.getName())
        .sort();
    const names = await list("v1alpha");
    assert.deepEqual(names, await list("v1"));
    assert.ok(names?.includes("grpc.reflection.v1alpha.ServerReflection") && names.includes("corral.v1.TaskRunner"), names?.join(", "));
    const response = await reflect(new reflectionPb.ServerReflectionRequest().setFileContainingSymbol("corral.v1.ProcessMonitor"), "v1alpha");
    const files = (response.getFileDescriptorResponse()?.getFileDescriptorProtoList_asU8() ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    assert.ok(
      files.some((file) => file.service.some((service) => service.name === "ProcessMonitor")),
      files.map((file) => file.name).join(", "),
    );
  });

  test("the descriptors reflection serves carry the .proto comments (source info)", async () => {
    const response = await reflect(new reflectionPb.ServerReflectionRequest().setFileContainingSymbol("corral.v1.ProcessManager"));
    const files = (response.getFileDescriptorResponse()?.getFileDescriptorProtoList_asU8() ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const main = files.find((file) => file.name === "corral/v1/process_manager.proto");
    // The comment above `service ProcessManager` in the proto file, as protoc records it.
    const source = readFileSync(join(repoRoot, "proto/corral/v1/process_manager.proto"), "utf8");
    const block = /((?:^\/\/.*\n)+)service ProcessManager \{/m.exec(source)?.[1];
    assert.ok(block, "the proto file documents service ProcessManager");
    const expected = block.replace(/^\/\/ ?/gm, "");
    // Path [6, 0]: FileDescriptorProto.service (field 6), the first service.
    const location = main?.sourceCodeInfo?.location.find((l) => l.path.length === 2 && l.path[0] === 6 && l.path[1] === 0);
    assert.equal(location?.leadingComments?.replace(/^ /gm, ""), expected);
    // And every message of the file has its comment (buf lint COMMENTS keeps it so in the source).
    const messageComments = main?.sourceCodeInfo?.location.filter((l) => l.path.length === 2 && l.path[0] === 4 && (l.leadingComments ?? "").trim() !== "");
    assert.equal(messageComments?.length, main?.messageType.length);
    // And every field of every (top-level) message: path [4, message, 2, field].
    const commented = (path: number[]) =>
      main?.sourceCodeInfo?.location.some((l) => l.path.join(".") === path.join(".") && (l.leadingComments ?? l.trailingComments ?? "").trim() !== "");
    const uncommented = (main?.messageType ?? []).flatMap((message, m) =>
      message.field.flatMap((field, f) => (commented([4, m, 2, f]) ? [] : [`${message.name}.${field.name}`])),
    );
    assert.deepEqual(uncommented, [], "fields without a comment in the served descriptor");
  });
});
