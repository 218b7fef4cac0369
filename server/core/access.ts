// Who may reach this daemon and what they may do: the roles, the TLS and authentication settings
// of its TCP listeners (server.tls, server.auth as the daemon uses them), and the rule that a
// listener beyond loopback needs both. config/ produces these values; rpc/ enforces them.

/** The roles a caller can have, each allowing what the one before it does and more (rpc/method-roles.ts). */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** server.tls with absolute paths. */
export interface TlsServerConfig {
  certPath: string;
  keyPath: string;
  clientCaPath?: string;
  /** Only meaningful with clientCaPath. */
  requireClientCert: boolean;
}

/** server.auth: who may call over TCP. */
export interface AuthConfig {
  /** Token files (absolute paths); the values are read by the daemon, never kept in the config. */
  tokens: { name: string; file: string; role: Role }[];
  clients: { subject: string; role: Role }[];
}

/** True when server.auth names at least one way in (a token or a client certificate). */
export function hasAuthMethods(auth?: { tokens: unknown[]; clients: unknown[] }): boolean {
  return auth !== undefined && auth.tokens.length + auth.clients.length > 0;
}

/** The rule a listener beyond loopback breaks without TLS and auth (the config's check and the rpc layer's check of --listen). */
export const BEYOND_LOOPBACK_RULE =
  "listening beyond loopback (127.0.0.0/8, [::1], localhost) needs TLS (server.tls) and authentication (server.auth: tokens or client certificates), or --insecure (server.insecure: true) to accept the risk";

const LOOPBACK_HOSTS = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** True for "127.x.y.z:port", "[::1]:port" and "localhost:port". */
export function isLoopbackAddress(address: string): boolean {
  const colon = address.lastIndexOf(":");
  return LOOPBACK_HOSTS.test(colon < 0 ? address : address.slice(0, colon));
}
