// Where a daemon lives when not told: $CORRAL_HOME, else ~/.corral, with its Unix socket inside.
// The TypeScript client (client/ts) applies the same rule to find the daemon; both are checked
// against test/fixtures/address-cases.json.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The daemon's home directory: $CORRAL_HOME, else ~/.corral. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.CORRAL_HOME;
  return home ? resolve(home) : join(homedir(), ".corral");
}

/** The Unix socket of a daemon home. */
export function socketPath(home: string): string {
  return join(home, "corral.sock");
}
