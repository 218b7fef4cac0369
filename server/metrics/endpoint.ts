// The Prometheus endpoint: GET /metrics on metrics.listen, under the gRPC TCP listeners' rules
// (server/rpc/http-listener.ts): HTTPS when server.tls is set; beyond loopback only with TLS and
// server.auth; with server.auth every scrape needs a token or client certificate of any role
// (a viewer's is enough: Prometheus's `authorization: {credentials_file: ...}`).
import type { AuthConfig, TlsServerConfig } from "../config/load.js";
import type { Authenticator } from "../rpc/authenticator.js";
import { identifyHttpCaller, startHttpListener, type HttpRequest, type HttpResponse } from "../rpc/http-listener.js";

export interface MetricsEndpoint {
  /** "http(s)://host:port/metrics" with the real port. */
  readonly url: string;
  close(): Promise<void>;
}

/** What the endpoint serves: the scrape's text and its content type. */
export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsSecurity {
  tls?: TlsServerConfig;
  auth?: AuthConfig;
  authNone?: boolean;
  insecure?: boolean;
  /** Identifies scrapers (the gRPC server's); without it every scrape is served (tests of the text alone). */
  authenticator?: Authenticator;
  warn?: (line: string) => void;
}

function reply(response: HttpResponse, status: number, headers: Record<string, string>, body?: string): void {
  response.writeHead(status, headers);
  if (body === undefined) response.end();
  else response.end(body);
}

export async function startMetricsEndpoint(listen: string, source: MetricsSource, security: MetricsSecurity = {}): Promise<MetricsEndpoint> {
  const handler = (request: HttpRequest, response: HttpResponse) => {
    if (request.method !== "GET" && request.method !== "HEAD") return reply(response, 405, { allow: "GET, HEAD" });
    if ((request.url ?? "").split("?")[0] !== "/metrics") return reply(response, 404, { "content-type": "text/plain" }, "corral serves /metrics only\n");
    if (security.authenticator) {
      try {
        // Any role may read metrics; identify() refuses a missing or unknown credential when server.auth is set.
        identifyHttpCaller(security.authenticator, request);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return reply(response, 401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="corral"' }, `${message}\n`);
      }
    }
    source.render().then(
      (body) => reply(response, 200, { "content-type": source.contentType }, request.method === "HEAD" ? undefined : body),
      (error: unknown) => reply(response, 500, { "content-type": "text/plain" }, `metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  };
  const listener = await startHttpListener({ listen, field: "metrics.listen", ...security, handler });
  return { url: `${listener.origin}/metrics`, close: () => listener.close() };
}
