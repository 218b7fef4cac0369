// The fleet view's reach: read-only calls to the other daemons of a several-host config, through
// this daemon. A call for host NAME runs through this daemon's own middleware chain first (the
// browser's caller must be allowed here), then goes to NAME's daemon with the credentials the
// config's hosts entry names (address, tls, token_file), like the CLI's routing. Only methods a
// viewer may call are forwarded: the config's token for NAME may carry more rights than the
// browser's caller has here, so nothing that changes NAME goes through this path.
import { readFileSync } from "node:fs";
import { ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";
import { ClientError, createChannel, createClientFactory, Metadata, ServerError, type Channel, type ClientMiddleware } from "nice-grpc";
import type { HostConfig } from "../config/load.js";
import { PermissionDeniedError } from "../core/errors.js";
import type { BridgedService } from "../rpc/connect-bridge.js";
import { requirementOf } from "../rpc/method-roles.js";

function readFor(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function bearer(tokenFile: string): ClientMiddleware {
  const header = `Bearer ${(readFor(tokenFile, "token file").toString("utf8").split(/\r?\n/)[0] ?? "").trim()}`;
  return async function* token(call, options) {
    const metadata = Metadata(options.metadata);
    metadata.set("authorization", header);
    return yield* call.next(call.request, { ...options, metadata });
  };
}

/** A channel to a hosts entry, as the CLI makes it: TLS when the entry has tls, a Unix socket for unix: addresses. */
function channelTo(host: HostConfig): Channel {
  if (host.address.startsWith("unix:")) return createChannel(`unix://${host.address.slice("unix:".length)}`);
  if (!host.tls) return createChannel(host.address, ChannelCredentials.createInsecure());
  const { ca, cert, key, serverName } = host.tls;
  const credentials = ChannelCredentials.createSsl(
    ca ? readFor(ca, "TLS CA file") : null,
    key ? readFor(key, "TLS key file") : null,
    cert ? readFor(cert, "TLS certificate file") : null,
  );
  const options: ChannelOptions = serverName ? { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName } : {};
  return createChannel(host.address, credentials, options);
}

/** A remote daemon's status, as the service method's caller must see it: same code, its message prefixed with the host. */
function fromRemote(host: string, error: unknown): unknown {
  if (error instanceof ClientError) return new ServerError(error.code, `host ${host}: ${error.details}`);
  return error;
}

type Forward = (request: unknown, options: { signal: AbortSignal }) => unknown;

export interface FleetHost {
  name: string;
  /** The same services as this daemon's, each method forwarded (reads) or refused (the rest). */
  services: BridgedService[];
  close(): void;
}

/** Forwarding implementations of the given services for one hosts entry; the channel opens at the first call. */
export function fleetHost(host: HostConfig, local: BridgedService[]): FleetHost {
  let channel: Channel | undefined;
  const clients = new Map<string, Record<string, Forward>>();
  const clientFor = (service: BridgedService): Record<string, Forward> => {
    let client = clients.get(service.service.typeName);
    if (client === undefined) {
      channel ??= channelTo(host);
      const factory = host.tokenFile ? createClientFactory().use(bearer(host.tokenFile)) : createClientFactory();
      client = factory.create(service.definition as Parameters<typeof factory.create>[0], channel) as unknown as Record<string, Forward>;
      clients.set(service.service.typeName, client);
    }
    return client;
  };
  const services = local.map((service): BridgedService => {
    const implementation: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(service.definition)) {
      if (requirementOf(method.path) !== "viewer") {
        implementation[name] = () => {
          throw new PermissionDeniedError(
            `${method.path}: the fleet view is read-only; open host ${host.name}'s own dashboard to change it`,
            "FLEET_READ_ONLY",
          );
        };
      } else if (method.responseStream) {
        implementation[name] = async function* (request: unknown, context: { signal: AbortSignal }) {
          try {
            yield* clientFor(service)[name]!(request, { signal: context.signal }) as AsyncIterable<unknown>;
          } catch (error) {
            throw fromRemote(host.name, error);
          }
        };
      } else {
        implementation[name] = async (request: unknown, context: { signal: AbortSignal }) => {
          try {
            return await clientFor(service)[name]!(request, { signal: context.signal });
          } catch (error) {
            throw fromRemote(host.name, error);
          }
        };
      }
    }
    return { ...service, implementation };
  });
  return { name: host.name, services, close: () => channel?.close() };
}
