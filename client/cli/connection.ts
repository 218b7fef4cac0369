// The CLI's connection options (--address, --tls-*, --token-file, valid before or after the
// command) and their environment fallbacks, turned into connect() options.
import type { ConnectOptions } from "../ts/index.js";
import { UsageError } from "./usage.js";

/** Global options that take a value, and the environment variable each falls back to. */
const VALUE_OPTIONS = {
  "--address": "CORRAL_ADDRESS",
  "--tls-ca": "CORRAL_TLS_CA",
  "--tls-cert": "CORRAL_TLS_CERT",
  "--tls-key": "CORRAL_TLS_KEY",
  "--tls-server-name": "CORRAL_TLS_SERVER_NAME",
  "--token-file": "CORRAL_TOKEN_FILE",
} as const;

type ValueOption = keyof typeof VALUE_OPTIONS;

/** What the user typed; later occurrences win, as with --address before. */
export interface ConnectionFlags {
  values: Partial<Record<ValueOption, string>>;
  /** --tls: TLS with the system's roots even when no --tls-* file is given. */
  tls: boolean;
}

export function emptyConnectionFlags(): ConnectionFlags {
  return { values: {}, tls: false };
}

/**
 * If args[index] is `flag` (sets it) or one of `valueOptions` ("--name VALUE" or "--name=VALUE",
 * stored under the option's key), records it and returns the index of its last word; otherwise
 * returns undefined.
 */
export function takeOption<Key extends string>(
  args: string[],
  index: number,
  flag: { name: string; set(): void },
  valueOptions: Readonly<Record<string, Key>>,
  store: (key: Key, value: string) => void,
  command?: string,
): number | undefined {
  const arg = args[index]!;
  if (arg === flag.name) {
    flag.set();
    return index;
  }
  for (const [name, key] of Object.entries(valueOptions)) {
    if (arg === name) {
      const value = args[index + 1];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value`, command);
      store(key, value);
      return index + 1;
    }
    if (arg.startsWith(`${name}=`)) {
      store(key, arg.slice(name.length + 1));
      return index;
    }
  }
  return undefined;
}

const OPTION_KEYS = Object.fromEntries(Object.keys(VALUE_OPTIONS).map((name) => [name, name])) as Record<ValueOption, ValueOption>;

/** takeOption for the connection options (--tls, --address, --tls-*, --token-file). */
export function takeConnectionOption(args: string[], index: number, flags: ConnectionFlags, command?: string): number | undefined {
  return takeOption(args, index, { name: "--tls", set: () => (flags.tls = true) }, OPTION_KEYS, (key, value) => (flags.values[key] = value), command);
}

/** connect() options from the flags, each missing one taken from its environment variable. */
export function connectOptionsOf(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectOptions {
  const value = (name: ValueOption): string | undefined => flags.values[name] ?? (env[VALUE_OPTIONS[name]] || undefined);
  const ca = value("--tls-ca");
  const cert = value("--tls-cert");
  const key = value("--tls-key");
  const serverName = value("--tls-server-name");
  const useTls = flags.tls || env.CORRAL_TLS === "1" || [ca, cert, key, serverName].some((given) => given !== undefined);
  const tokenFile = value("--token-file");
  return {
    // resolveAddress reads CORRAL_ADDRESS itself; only an explicit flag is passed on.
    ...(flags.values["--address"] !== undefined ? { address: flags.values["--address"] } : {}),
    ...(useTls
      ? {
          tls: {
            ...(ca !== undefined ? { ca } : {}),
            ...(cert !== undefined ? { cert } : {}),
            ...(key !== undefined ? { key } : {}),
            ...(serverName !== undefined ? { serverName } : {}),
          },
        }
      : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
  };
}
