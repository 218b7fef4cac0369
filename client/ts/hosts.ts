// Several hosts, one client: a Fleet knows each host's daemon address (the config's hosts map)
// and which host each program runs on, connects to a host on first use, routes a program to
// its host, and fans calls out to many hosts with a per-host deadline so that one unreachable
// host is reported ("host lab2 unreachable: ...") while the others still answer.
import { ClientError, Status } from "nice-grpc";
import { connect, type ConnectOptions, type CorralClient } from "./index.js";

/** One host's daemon, as the config's hosts map describes it (paths absolute). */
export interface HostTarget {
  name: string;
  /** "host:port" or "unix:/abs/path". */
  address: string;
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string };
  tokenFile?: string;
}

/** A configured program and the host it names (none: it runs on every host's daemon). */
export interface ProgramPlacement {
  name: string;
  host?: string;
}

/** How long a fan-out call waits for a host before calling it unreachable. */
export const DEFAULT_HOST_DEADLINE_MS = 5_000;

/** A host that did not answer: refused, reset, or silent past the per-host deadline. */
export class HostUnreachableError extends Error {
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`host ${host} unreachable: ${reason}`);
    this.name = "HostUnreachableError";
  }
}

/** One host's answer to a fan-out call. */
export type HostResult<T> = { host: string; ok: true; value: T } | { host: string; ok: false; error: Error };

export interface FleetOptions {
  /** In config order: start-all goes through them in it, stop-all in reverse. */
  hosts: HostTarget[];
  programs?: ProgramPlacement[];
  hostDeadlineMs?: number;
  /** How to reach one host (default: connect() with hostConnectOptions(target, connectDefaults)). */
  connect?: (target: HostTarget) => CorralClient;
  /** Credentials for hosts whose entry names none (see hostConnectOptions). */
  connectDefaults?: ConnectOptions;
}

/** Whether a failed call means the host did not answer at all (as opposed to refusing the request). */
function isUnreachable(error: unknown): boolean {
  return error instanceof ClientError && (error.code === Status.UNAVAILABLE || error.code === Status.DEADLINE_EXCEEDED);
}

function reasonOf(error: unknown, deadlineMs: number): string {
  if (error instanceof ClientError) {
    if (error.code === Status.DEADLINE_EXCEEDED) return `no answer within ${deadlineMs} ms`;
    // grpc-js says "No connection established. Last error: Error: connect ECONNREFUSED ...
    // Resolution note: ..."; the OS error is the part a user needs.
    const lastError = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(error.details);
    return lastError?.[1]?.trim() || error.details || Status[error.code] || String(error.code);
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * The options connect() is given for a host: its address, and its own tls / token_file, else
 * the defaults (e.g. the CLI's --tls-ca / --token-file, meant for every host).
 */
function hostConnectOptions(target: HostTarget, defaults: ConnectOptions = {}): ConnectOptions {
  const { address: _ignored, ...shared } = defaults;
  return {
    ...shared,
    address: target.address,
    ...(target.tls ? { tls: target.tls } : {}),
    ...(target.tokenFile !== undefined ? { tokenFile: target.tokenFile, token: undefined } : {}),
  };
}

export class Fleet {
  readonly hostNames: readonly string[];
  readonly hostDeadlineMs: number;
  private readonly targets: Map<string, HostTarget>;
  private readonly placements: Map<string, string | undefined>;
  private readonly clients = new Map<string, CorralClient>();
  private readonly connectTo: (target: HostTarget) => CorralClient;

  constructor(options: FleetOptions) {
    if (options.hosts.length === 0) throw new Error("a fleet needs at least one host (the config has no hosts map)");
    this.targets = new Map(options.hosts.map((host) => [host.name, host]));
    this.hostNames = options.hosts.map((host) => host.name);
    this.placements = new Map((options.programs ?? []).map((program) => [program.name, program.host]));
    this.hostDeadlineMs = options.hostDeadlineMs ?? DEFAULT_HOST_DEADLINE_MS;
    this.connectTo = options.connect ?? ((target) => connect(hostConnectOptions(target, options.connectDefaults)));
  }

  target(host: string): HostTarget {
    const target = this.targets.get(host);
    if (!target) throw new Error(`unknown host "${host}" (hosts: ${this.hostNames.join(", ")})`);
    return target;
  }

  /** The host's client, connected on first use (the connection itself is lazy too). */
  client(host: string): CorralClient {
    let client = this.clients.get(host);
    if (!client) {
      client = this.connectTo(this.target(host));
      this.clients.set(host, client);
    }
    return client;
  }

  /** The hosts a configured program runs on (its host, or all for one without); undefined if not configured. */
  hostsOf(program: string): string[] | undefined {
    if (!this.placements.has(program)) return undefined;
    const host = this.placements.get(program);
    return host === undefined ? [...this.hostNames] : this.targets.has(host) ? [host] : [];
  }

  /** The configured programs that run on `host`, in config order. */
  programsOn(host: string): string[] {
    return [...this.placements].filter(([, placed]) => placed === undefined || placed === host).map(([name]) => name);
  }

  /**
   * Calls every given host at once. Each call gets the per-host deadline (unless `deadlineMs`
   * says otherwise; null: none); a host that does not answer becomes a HostUnreachableError,
   * any other failure is returned as it is. Never throws for a host's failure.
   */
  async onEachHost<T>(
    hosts: readonly string[],
    call: (client: CorralClient, host: string, options: { signal?: AbortSignal; deadline?: number }) => Promise<T>,
    options: { signal?: AbortSignal; deadlineMs?: number | null } = {},
  ): Promise<HostResult<T>[]> {
    const deadlineMs = options.deadlineMs === undefined ? this.hostDeadlineMs : options.deadlineMs;
    return Promise.all(
      hosts.map(async (host): Promise<HostResult<T>> => {
        try {
          const callOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(deadlineMs !== null ? { deadline: deadlineMs } : {}) };
          return { host, ok: true, value: await call(this.client(host), host, callOptions) };
        } catch (error) {
          if (options.signal?.aborted) throw error;
          return { host, ok: false, error: this.asHostError(host, error, deadlineMs ?? this.hostDeadlineMs) };
        }
      }),
    );
  }

  /** A failed call's error, with "did not answer" turned into HostUnreachableError. */
  asHostError(host: string, error: unknown, deadlineMs = this.hostDeadlineMs): Error {
    if (isUnreachable(error)) return new HostUnreachableError(host, reasonOf(error, deadlineMs));
    return error instanceof Error ? error : new Error(String(error));
  }

  /** Which of the hosts answer GetServerInfo within the per-host deadline. */
  async reachable(hosts: readonly string[], signal?: AbortSignal): Promise<HostResult<true>[]> {
    return this.onEachHost(
      hosts,
      async (client, _host, options) => {
        await client.processManager.getServerInfo({}, options);
        return true as const;
      },
      { signal },
    );
  }

  /**
   * The hosts that run `program`: the config's answer, else (a program the config does not
   * know, e.g. an ad-hoc one) the reachable hosts whose daemon lists it as its own. Hosts that
   * could not be asked come back in `unreachable`.
   */
  async locate(program: string, signal?: AbortSignal): Promise<{ hosts: string[]; unreachable: HostUnreachableError[] }> {
    const configured = this.hostsOf(program);
    if (configured !== undefined) return { hosts: configured, unreachable: [] };
    const answers = await this.onEachHost(
      this.hostNames,
      async (client, _host, options) => {
        const { processes } = await client.processManager.listProcesses({ selector: { names: [program], matchLabels: {} } }, options);
        return processes.some((process) => process.name === program && !process.remote);
      },
      { signal },
    );
    const hosts = answers.filter((answer) => answer.ok && answer.value).map((answer) => answer.host);
    const unreachable = answers.flatMap((answer) => (!answer.ok && answer.error instanceof HostUnreachableError ? [answer.error] : []));
    return { hosts, unreachable };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
