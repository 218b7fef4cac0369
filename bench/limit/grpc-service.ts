// The service of the bare gRPC limit (bench/limit/grpc-server.ts): raw bytes, no protobuf.
import type * as grpc from "@grpc/grpc-js";

export const limitService = {
  status: {
    path: "/limit.Limit/Status",
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
  watch: {
    path: "/limit.Limit/Watch",
    requestStream: false,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
  emit: {
    path: "/limit.Limit/Emit",
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} satisfies grpc.ServiceDefinition;

/** Wall-clock milliseconds with a fraction, comparable across processes of one host. */
export const wallMs = () => performance.timeOrigin + performance.now();
