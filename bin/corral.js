#!/usr/bin/env node
// The `corral` command: runs the compiled CLI in dist/ (built by `npm run build`).
import { existsSync } from "node:fs";
import module from "node:module";

// Node 22+ caches compiled code between runs, which is most of a short command's time; on
// Node 20 this is absent and skipped.
module.enableCompileCache?.();

// The bundle (scripts/bundle-cli.mjs) loads fastest; the plain build works as well.
const bundle = new URL("../dist/client/cli/main.bundle.mjs", import.meta.url);
const entry = existsSync(bundle) ? bundle : new URL("../dist/client/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("corral is not built: run `npm run build` (or npm ci)\n");
  process.exit(1);
}
const { main } = await import(entry.href);
// exitCode rather than exit(): `corral server` keeps running after main returns, and pending
// stdout writes to a pipe are flushed before the process ends.
process.exitCode = await main(process.argv.slice(2));
