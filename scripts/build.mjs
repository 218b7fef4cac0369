#!/usr/bin/env node
// `npm run build` (and so `npm ci` and `npm pack`, through `prepare`): the published build.
// dist/server, dist/client and dist/gen are removed first so that no output of a deleted
// source file reaches the package, then compiled with declarations (tsconfig.build.json: only
// server/, client/ and gen/, no tests), and the CLI and the web page are bundled. `npm test` compiles the tests
// on top of it with tsconfig.json.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const dir of ["server", "client", "gen"]) rmSync(join(root, "dist", dir), { recursive: true, force: true });
const run = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" });
run([join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"]);
run([join(root, "scripts/bundle-cli.mjs")]);
// The web dashboard's page: type-checked with DOM types, then bundled (dist/client/web).
run([join(root, "node_modules/typescript/bin/tsc"), "-p", "client/web/tsconfig.json"]);
run([join(root, "scripts/bundle-web.mjs")]);
