#!/usr/bin/env node
// The JSON Schema of corral's config file, generated from the one zod schema
// (server/config/schema.ts, compiled in dist/) with zod's z.toJSONSchema, into
// server/config/corral.schema.json for editors (YAML language servers). `--check` fails when
// the committed file differs from what the schema gives (npm test runs it).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const root = fileURLToPath(new URL("..", import.meta.url));
const target = `${root}server/config/corral.schema.json`;
const { configSchema } = await import(`${root}dist/server/config/schema.js`);
// io "input": what a user writes (defaults optional). Durations, sizes and addresses are parsed
// by code (strings or numbers): they are unconstrained here, and `corral check` checks them.
const schema = {
  $id: "https://corral.dev/schema/corral.schema.json",
  title: "corral config",
  description:
    "corral's config file (corral server --config FILE). Generated from server/config/schema.ts by scripts/config-schema.mjs; validate fully with `corral check FILE`.",
  ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
};
const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    // missing: reported below
  }
  if (committed !== text) {
    console.error("server/config/corral.schema.json is out of date with server/config/schema.ts: run `npm run generate:schema` and commit it");
    process.exit(1);
  }
  console.log("server/config/corral.schema.json is up to date");
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
