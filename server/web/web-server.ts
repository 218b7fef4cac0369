// The web dashboard (web.listen): one page (dist/client/web, bundled by scripts/bundle-web.mjs)
// and the daemon's services over the Connect protocol, on one HTTP listener under the gRPC TCP
// listeners' rules (server/rpc/http-listener.ts). Every Connect call goes through the same
// middleware chain and service methods as a gRPC call (server/rpc/connect-bridge.ts); calls for
// another host of the config (/hosts/NAME/...) are forwarded read-only (fleet.ts).
// Imported lazily by main.ts: a daemon without web.listen never loads this module.
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { AuthConfig, HostConfig, TlsServerConfig } from "../config/load.js";
import type { Authenticator } from "../rpc/authenticator.js";
import { registerBridgedServices, WEB_PEER } from "../rpc/connect-bridge.js";
import {
  connectionIdOf,
  identifyHttpCaller,
  peerAddressOf,
  peerSubjectOf,
  startHttpListener,
  type HttpRequest,
  type HttpResponse,
} from "../rpc/http-listener.js";
import type { NetworkCallLayer } from "../rpc/server.js";
import { fleetHost, type FleetHost } from "./fleet.js";

/** A Connect request's largest body: the gRPC servers' default receive limit (4 MiB). */
const READ_MAX_BYTES = 4 * 1024 * 1024;

export interface WebServerOptions {
  listen: string;
  tls?: TlsServerConfig;
  auth?: AuthConfig;
  authNone?: boolean;
  insecure?: boolean;
  authenticator: Authenticator;
  network: NetworkCallLayer;
  /** This daemon's host name (the page's title, the fleet view's "here"). */
  hostName: string;
  /** The config's hosts: the fleet view lists them all; the others are reached through fleet.ts. */
  hosts: HostConfig[];
  warn?: (line: string) => void;
}

export interface WebServer {
  /** "http(s)://host:port/" with the real port. */
  readonly url: string;
  close(): Promise<void>;
}

interface Asset {
  type: string;
  body: Buffer;
  gzip?: Buffer;
}

/** The page's files, read once at start (about 100 KiB; the JavaScript also gzipped once). */
async function loadAssets(): Promise<Map<string, Asset>> {
  const dir = new URL("../../client/web/", import.meta.url);
  const files: [string, string, string][] = [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/app.js", "app.js", "text/javascript; charset=utf-8"],
    ["/app.css", "app.css", "text/css; charset=utf-8"],
  ];
  const assets = new Map<string, Asset>();
  for (const [path, file, type] of files) {
    let body: Buffer;
    try {
      body = await readFile(new URL(file, dir));
    } catch (error) {
      throw new Error(
        `the web dashboard's page is missing (${new URL(file, dir).pathname}: ${(error as NodeJS.ErrnoException).code}); build it with npm run build`,
      );
    }
    assets.set(path, { type, body, ...(body.length > 1024 ? { gzip: gzipSync(body) } : {}) });
  }
  return assets;
}

/**
 * What every response carries: the page runs only its own script and styles (no inline code, no
 * other origin), cannot be framed (its buttons stop programs), and leaks no referrer.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
} as const;

function reply(response: HttpResponse, status: number, headers: Record<string, string>, body?: string | Buffer): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  if (body === undefined) response.end();
  else response.end(body);
}

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const assets = await loadAssets();
  const fleet = new Map<string, FleetHost>();
  for (const host of options.hosts) if (host.name !== options.hostName) fleet.set(host.name, fleetHost(host, options.network.services));
  const contextValues = (request: HttpRequest) => {
    const subject = peerSubjectOf(request);
    return createContextValues().set(WEB_PEER, { peer: peerAddressOf(request), connectionId: connectionIdOf(request), ...(subject ? { subject } : {}) });
  };
  const adapter = (services: typeof options.network.services, requestPathPrefix?: string) =>
    connectNodeAdapter({
      routes: (router) => registerBridgedServices(router, services, options.network.middleware),
      // The Connect protocol only: what the page speaks (gRPC clients have the gRPC listeners).
      connect: true,
      grpc: false,
      grpcWeb: false,
      readMaxBytes: READ_MAX_BYTES,
      contextValues,
      ...(requestPathPrefix ? { requestPathPrefix } : {}),
      fallback: (_request, response) => {
        response.writeHead(404, { ...SECURITY_HEADERS, "content-type": "text/plain" });
        response.end("no such method\n");
      },
    });
  const local = adapter(options.network.services);
  const remote = new Map([...fleet.values()].map((host) => [host.name, adapter(host.services, `/hosts/${host.name}`)]));

  const session = (request: HttpRequest, response: HttpResponse) => {
    try {
      const identity = identifyHttpCaller(options.authenticator, request);
      const body = {
        identity: identity.name,
        role: identity.role,
        host: options.hostName,
        hosts: [options.hostName, ...fleet.keys()],
        authRequired: options.auth !== undefined && options.auth.tokens.length + options.auth.clients.length > 0,
      };
      reply(response, 200, { "content-type": "application/json", "cache-control": "no-store" }, JSON.stringify(body));
    } catch (error) {
      reply(
        response,
        401,
        { "content-type": "application/json", "cache-control": "no-store" },
        JSON.stringify({ error: error instanceof Error ? error.message : String(error) }),
      );
    }
  };

  let loopback = true;
  const handler = (request: HttpRequest, response: HttpResponse) => {
    // On a loopback listener only loopback names are served: a page of another site whose name
    // was rebound to 127.0.0.1 (DNS rebinding) must not reach the daemon as same-origin.
    const host = request.headers.host ?? request.headers[":authority"];
    if (loopback && (typeof host !== "string" || !LOOPBACK_HOST.test(host))) {
      return reply(response, 421, { "content-type": "text/plain" }, "this dashboard answers only to loopback host names (localhost, 127.0.0.1, [::1])\n");
    }
    const path = (request.url ?? "/").split("?")[0]!;
    const fleetMatch = /^\/hosts\/([^/]+)\//.exec(path);
    if (fleetMatch) {
      const forward = remote.get(decodeURIComponent(fleetMatch[1]!));
      if (!forward) return reply(response, 404, { "content-type": "text/plain" }, `no host ${fleetMatch[1]} in this daemon's config\n`);
      return forward(request, response);
    }
    if (request.method === "GET" || request.method === "HEAD") {
      if (path === "/session") return session(request, response);
      const asset = assets.get(path);
      if (asset) {
        const gzip = asset.gzip && /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
        const headers: Record<string, string> = { "content-type": asset.type, "cache-control": "no-cache", vary: "accept-encoding" };
        if (gzip) headers["content-encoding"] = "gzip";
        return reply(response, 200, headers, request.method === "HEAD" ? undefined : gzip ? asset.gzip : asset.body);
      }
    }
    return local(request, response);
  };
  const listener = await startHttpListener({ ...options, field: "web.listen", handler });
  loopback = listener.loopback;
  return {
    url: `${listener.origin}/`,
    close: async () => {
      await listener.close();
      for (const host of fleet.values()) host.close();
    },
  };
}
