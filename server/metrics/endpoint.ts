// The Prometheus endpoint: GET /metrics on a loopback HTTP listener (metrics.listen). Anything
// wider than loopback is refused, like the gRPC TCP listeners, until TLS and auth exist.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError } from "../core/errors.js";

export interface MetricsEndpoint {
  /** "http://host:port/metrics" with the real port. */
  readonly url: string;
  close(): Promise<void>;
}

/** What the endpoint serves: the scrape's text and its content type. */
export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export async function startMetricsEndpoint(listen: string, source: MetricsSource): Promise<MetricsEndpoint> {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const host = match ? (match[1] ?? match[2]) : "";
  if (!match || !(host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new InvalidArgumentError(
      "metrics.listen",
      listen,
      "must be a loopback HOST:PORT (127.0.0.0/8, [::1], localhost): serving metrics beyond loopback is not supported yet",
    );
  }
  const server = createServer((request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if ((request.url ?? "").split("?")[0] !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("corral serves /metrics only\n");
      return;
    }
    source.render().then(
      (body) => response.writeHead(200, { "content-type": source.contentType }).end(request.method === "HEAD" ? undefined : body),
      (error: unknown) =>
        response.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(match[3]), host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/metrics`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
