#!/usr/bin/env node
// Bundles the web dashboard (client/web) into dist/client/web: app.js (the page's code with
// connect-web and protobuf-es, minified, one file: no CDN, nothing fetched but the daemon's own
// files), app.css and index.html copied beside it. The daemon serves these files (server/web).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist/client/web");
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ["client/web/main.ts"],
  outfile: join(out, "app.js"),
  bundle: true,
  platform: "browser",
  format: "esm",
  // What Chromium, Firefox and Safari of the last few years run (async iteration of fetch streams).
  target: ["chrome111", "firefox111", "safari16.4"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) copyFileSync(join(root, "client/web", file), join(out, file));
