#!/usr/bin/env node
// Bundles the compiled CLI into one ESM file (dist/client/cli/main.bundle.mjs): loading one
// file instead of hundreds of modules cuts `corral status` by about a third on Node 20.
// The daemon (`corral server`) stays outside the bundle and is imported lazily from dist/.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
/** What both bundles share: one ESM file for Node 20. */
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: 'import { createRequire as __corralRequire } from "node:module"; const require = __corralRequire(import.meta.url);' },
  logLevel: "warning",
  legalComments: "none",
};

// `bundle-cli.mjs ENTRY OUTFILE`: one more file bundled the same way (the bench's bare-client
// call, bench/rows/api.ts), and nothing else.
const [entry, outfile] = process.argv.slice(2);
if (entry !== undefined && outfile !== undefined) {
  await build({ ...common, entryPoints: [entry], outfile });
  process.exit(0);
}

await build({
  ...common,
  entryPoints: ["dist/client/cli/main.js"],
  outfile: "dist/client/cli/main.bundle.mjs",
  // Keeps `await import("../../server/main.js")` (and the heap tuning before it) pointing at
  // dist/server/. The import-free modules the CLI shares with the server (server/core/duration.ts, limits.ts) are bundled.
  external: ["../../server/main.js", "../../server/heap-tuning.js"],
  plugins: [
    {
      // Multi-host mode (client/cli/fleet) imports the server's config code lazily: it is
      // bundled on its own below (one file loads in about a third of the time of its modules).
      name: "fleet-config-loader",
      setup(build) {
        build.onResolve({ filter: /^\.\.\/\.\.\/\.\.\/server\/config\/fleet-entry\.js$/ }, () => ({ path: "./config-loader.bundle.mjs", external: true }));
      },
    },
  ],
});

// The config code for `corral --config` (multi-host mode), beside the CLI bundle.
await build({
  ...common,
  entryPoints: ["dist/server/config/fleet-entry.js"],
  outfile: "dist/client/cli/config-loader.bundle.mjs",
});
