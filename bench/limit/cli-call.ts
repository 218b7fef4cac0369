// The floor under `corral status` (bench/rows/api.ts): a fresh node process making the same
// ListProcesses call with grpc-js alone, request and reply as raw bytes ("grpc"), or also decoding
// the reply with protobuf-es ("decode": the descriptors' set-up and the decoding of every
// ProcessInfo), without nice-grpc, the client library or the CLI. Prints the reply's size.
// `node dist/bench/limit/cli-call.js grpc|decode unix:///path REQUEST_HEX`
import * as grpc from "@grpc/grpc-js";

const [mode, address, requestHex] = process.argv.slice(2) as [string, string, string];
const raw = (b: Buffer) => b;
const method = {
  path: "/corral.v1.ProcessManager/ListProcesses",
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
};
const Client = grpc.makeGenericClientConstructor({ listProcesses: method }, "ProcessManager");
const client = new Client(address, grpc.credentials.createInsecure());
const reply = await new Promise<Buffer>((resolve, reject) =>
  (client.listProcesses as (request: Buffer, callback: (error: grpc.ServiceError | null, value?: Buffer) => void) => void)(
    Buffer.from(requestHex, "hex"),
    (error, value) => (error ? reject(error) : resolve(value!)),
  ),
);
client.close();
let programs = -1;
if (mode === "decode") {
  const { fromBinary } = await import("@bufbuild/protobuf");
  const { ListProcessesResponseSchema } = await import("../../gen/ts/corral/v1/process_manager_pb.js");
  programs = fromBinary(ListProcessesResponseSchema, reply).processes.length;
}
process.stdout.write(`${reply.length} bytes${programs >= 0 ? `, ${programs} programs` : ""}\n`);
