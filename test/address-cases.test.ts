// The address rules as one table (test/fixtures/address-cases.json), read here for the
// TypeScript client and the daemon, and by the Python and Go clients' own tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { resolveAddress } from "../client/ts/index.js";
import { defaultHome, socketPath } from "../server/home.js";
import { repoRoot } from "./helpers/daemon.js";

interface AddressCase {
  why: string;
  address: string;
  env?: Record<string, string>;
  target: string;
}

const cases = (JSON.parse(readFileSync(join(repoRoot, "test/fixtures/address-cases.json"), "utf8")) as { resolve: AddressCase[] }).resolve;
const expected = (c: AddressCase) => c.target.replaceAll("{cwd}", process.cwd());

test("the TypeScript client resolves every address case of the shared table", () => {
  assert.ok(cases.length >= 10);
  for (const c of cases) assert.equal(resolveAddress(c.address, c.env ?? {}), expected(c), c.why);
});

test("the daemon puts its socket where a client without an address looks for it", () => {
  const homeCases = cases.filter((c) => c.address === "" && c.env?.CORRAL_ADDRESS === undefined);
  assert.ok(homeCases.length >= 2);
  for (const c of homeCases) assert.equal(`unix://${socketPath(defaultHome(c.env ?? {}))}`, expected(c), c.why);
});
