// The service of the bare gRPC limit (bench/limit/grpc-server.ts): raw bytes, no protobuf.
import type * as grpc from "@grpc/grpc-js";

const raw = (b: Buffer) => b;

/** One method of the limit service: bytes in, bytes out. */
function rawMethod(name: string, responseStream: boolean) {
  return {
    path: `/limit.Limit/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
}

export const limitService = {
  status: rawMethod("Status", false),
  watch: rawMethod("Watch", true),
  emit: rawMethod("Emit", false),
  follow: rawMethod("Follow", true),
} satisfies grpc.ServiceDefinition;

/** Wall-clock milliseconds with a fraction, comparable across processes of one host. */
export const wallMs = () => performance.timeOrigin + performance.now();
