// The bare-Node limit for the API rows: a grpc-js server on a Unix socket with no protobuf, no
// middleware and no domain work: a unary Status answering a fixed 256-byte reply, a server stream
// Watch, and Emit, which writes one timestamped message to every Watch stream (the fan-out limit);
// Follow streams what is appended to a file (the request is its path), woken by fs.watch, as
// corral's FollowLogs is: the FollowLogs limit without corral's work.
// `node dist/bench/limit/grpc-server.js SOCKET` prints "ready" once it listens.
import { closeSync, openSync, readSync, watch } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { limitService, wallMs } from "./grpc-service.js";

const socket = process.argv[2]!;
const statusReply = Buffer.alloc(256, 1);
const watchers = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
const server = new grpc.Server();
server.addService(limitService, {
  status: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, statusReply),
  watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    watchers.add(call);
    call.once("cancelled", () => watchers.delete(call));
  },
  emit: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    // An event of about the size of corral's state-change event, stamped when it is made.
    const message = Buffer.alloc(96);
    message.writeDoubleLE(wallMs(), 0);
    for (const call of watchers) call.write(message);
    callback(null, Buffer.alloc(0));
  },
  follow: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const path = call.request.toString();
    const fd = openSync(path, "r");
    const buffer = Buffer.alloc(64 * 1024);
    let position = 0;
    const watcher = watch(path, () => {
      for (let n = readSync(fd, buffer, 0, buffer.length, position); n > 0; n = readSync(fd, buffer, 0, buffer.length, position)) {
        position += n;
        call.write(Buffer.from(buffer.subarray(0, n)));
      }
    });
    call.once("cancelled", () => {
      watcher.close();
      closeSync(fd);
    });
  },
});
server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  process.stdout.write("ready\n");
});
process.once("SIGTERM", () => server.forceShutdown());
