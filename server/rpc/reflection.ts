// Server reflection in both versions generic clients speak: grpc.reflection.v1 (grpcurl,
// current grpc_cli) and grpc.reflection.v1alpha (older grpc_cli, Evans, Postman), served from
// one FileDescriptorSet that keeps the .proto comments, so `grpcurl describe` shows them.
import { ServerReflection, ServerReflectionService } from "nice-grpc-server-reflection";
import { descriptorSetBase64 } from "../../gen/ts/descriptor_set.js";

export const REFLECTION_V1 = "grpc.reflection.v1.ServerReflection";
export const REFLECTION_V1ALPHA = "grpc.reflection.v1alpha.ServerReflection";

/**
 * The v1alpha service: v1 was published as a copy of v1alpha under a new package (same messages,
 * same field numbers), so only the method path differs and nice-grpc-server-reflection's v1
 * codec and implementation serve it unchanged. nice-grpc-server-reflection serves v1 only.
 */
export const ServerReflectionV1AlphaService = {
  serverReflectionInfo: {
    ...ServerReflectionService.serverReflectionInfo,
    path: `/${REFLECTION_V1ALPHA}/ServerReflectionInfo`,
  },
} as const;

/** Every method path of both reflection services (for the role table). */
export const REFLECTION_METHOD_PATHS = [ServerReflectionService.serverReflectionInfo.path, ServerReflectionV1AlphaService.serverReflectionInfo.path];

/** The descriptor set (with source info) that both versions serve. */
export function reflectionDescriptorSet(): Uint8Array {
  return Uint8Array.from(Buffer.from(descriptorSetBase64, "base64"));
}

/**
 * One implementation for both services; it lists `serviceNames` plus both reflection services.
 * The descriptor set is parsed at the first reflection call (it takes ~200 ms of a daemon's
 * start-up and stays in its heap; most daemons are never asked).
 */
export function createReflection(serviceNames: readonly string[]): ReturnType<typeof ServerReflection> {
  let implementation: ReturnType<typeof ServerReflection> | undefined;
  const served = () => (implementation ??= ServerReflection(reflectionDescriptorSet(), [...serviceNames, REFLECTION_V1, REFLECTION_V1ALPHA]));
  return { serverReflectionInfo: (requests, context) => served().serverReflectionInfo(requests, context) };
}
