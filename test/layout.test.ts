// The dependency rules of DESIGN.md's Layout, checked on the sources: every static import (and
// every lazy `import()`) of every hand-written TypeScript file, resolved to the folder it lands in.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { repoRoot } from "./helpers/daemon.js";

interface ImportEdge {
  from: string;
  /** Repo-relative path of the imported file, or the package name. */
  to: string;
  lazy: boolean;
  line: number;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(join(repoRoot, d))) {
      const p = join(d, entry);
      if (statSync(join(repoRoot, p)).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const IMPORT = /(?:^|[^.\w])(?:(?:import|export)\s[^;]*?from\s+|import\s+)"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gs;

function importsOf(file: string, text = readFileSync(join(repoRoot, file), "utf8")): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2]!;
    const line = text.slice(0, match.index).split("\n").length;
    const to = specifier.startsWith(".") ? relative(repoRoot, resolve(repoRoot, dirname(file), specifier)) : specifier;
    edges.push({ from: file, to, lazy: match[2] !== undefined, line });
  }
  return edges;
}

const inside = (path: string, ...folders: string[]) => folders.some((folder) => path === folder || path.startsWith(`${folder}/`));
const show = (edges: ImportEdge[]) => edges.map((e) => `${e.from}:${e.line} imports ${e.to}${e.lazy ? " (lazily)" : ""}`).join("\n");
const localEdges = (dir: string) =>
  sourceFiles(dir)
    .flatMap((file) => importsOf(file))
    .filter((edge) => !/^(node:|@|[a-z])/.test(edge.to) || inside(edge.to, "server", "client", "gen", "test"));

test("the import reader sees static, type-only, side-effect, re-export and lazy imports", () => {
  // Guards the check itself: a reader that missed a form would let every rule below pass.
  const text = [
    'import { a } from "./a.js";',
    'import type { B } from "../b.js";',
    'import "./side-effect.js";',
    'export * from "../../gen/ts/x_pb.js";',
    'const lazy = await import("../main.js");',
    'import {\n  c,\n  type D,\n} from "node:fs";',
  ].join("\n");
  const edges = importsOf("server/config/probe.ts", text).map((e) => `${e.to}${e.lazy ? " lazy" : ""}`);
  assert.deepEqual(edges, ["server/config/a.js", "server/b.js", "server/config/side-effect.js", "gen/ts/x_pb.js", "server/main.js lazy", "node:fs"]);
  assert.ok(importsOf("client/cli/fleet/run.ts").some((e) => e.to === "server/config/fleet-entry.js" && e.lazy));
});

test("server/core imports nothing above it: no rpc, config, metrics, gen or client, and no gRPC, YAML or HTTP library", () => {
  const edges = sourceFiles("server/core").flatMap((file) => importsOf(file));
  const upward = edges.filter((e) => !/^(node:|@|[a-z])/.test(e.to) && !inside(e.to, "server/core"));
  assert.deepEqual(upward, [], show(upward));
  // The gRPC health readiness probe loads nice-grpc lazily, as a probe's client, never at start-up.
  const protocols = edges.filter((e) => !e.lazy && /^(nice-grpc|@grpc\/|yaml$|zod$|node:https?$|@bufbuild\/)/.test(e.to));
  assert.deepEqual(protocols, [], show(protocols));
});

test("the one sequenced log (core/events) and the store sit below the domain: they import no process/, task/ or monitor/", () => {
  const edges = [...sourceFiles("server/core/events"), ...sourceFiles("server/core/store")].flatMap((file) => importsOf(file));
  const bad = edges.filter((e) => inside(e.to, "server/core/process", "server/core/task", "server/core/monitor"));
  assert.deepEqual(bad, [], show(bad));
});

test("server/rpc imports only server/core, gen and itself", () => {
  // The auth and TLS settings rpc enforces are declared in core (core/access.ts); config produces them and daemon.ts hands them over.
  const bad = localEdges("server/rpc").filter((e) => !inside(e.to, "server/rpc", "server/core", "gen"));
  assert.deepEqual(bad, [], show(bad));
});

test("the server never imports client/", () => {
  const bad = localEdges("server").filter((e) => inside(e.to, "client"));
  assert.deepEqual(bad, [], show(bad));
});

test("client/ts imports only gen/ (and itself)", () => {
  const bad = localEdges("client/ts").filter((e) => !inside(e.to, "client/ts", "gen"));
  assert.deepEqual(bad, [], show(bad));
});

test("client/web (the dashboard page) imports only gen/ (and itself): it reaches the daemon through the same contract", () => {
  const bad = localEdges("client/web").filter((e) => !inside(e.to, "client/web", "gen"));
  assert.deepEqual(bad, [], show(bad));
});

test("the web dashboard's server (server/web) is imported only lazily: a daemon without web.listen loads none of it", () => {
  const bad = localEdges("server").filter((e) => inside(e.to, "server/web") && !inside(e.from, "server/web") && !e.lazy);
  assert.deepEqual(bad, [], show(bad));
  assert.ok(
    importsOf("server/daemon.ts").some((e) => e.to === "server/web/web-server.js" && e.lazy),
    "daemon.ts imports it lazily",
  );
});

test("OpenTelemetry (server/telemetry) and the Connect libraries are imported only lazily: a daemon without telemetry or web loads none of them", () => {
  const bad = localEdges("server").filter((e) => inside(e.to, "server/telemetry") && !inside(e.from, "server/telemetry") && !e.lazy);
  assert.deepEqual(bad, [], show(bad));
  const eager = sourceFiles("server")
    .filter((file) => !inside(file, "server/web", "server/telemetry") && file !== "server/rpc/connect-bridge.ts")
    .flatMap((file) => importsOf(file))
    .filter(
      (e) =>
        !e.lazy &&
        /^@(connectrpc|opentelemetry)\//.test(e.to) &&
        !/import type/.test(readFileSync(join(repoRoot, e.from), "utf8").split("\n")[e.line - 1] ?? ""),
    );
  assert.deepEqual(eager, [], show(eager));
});

// Import-free modules of the server that the CLI may load statically: one duration grammar for
// the config and the command line, with no second copy (they pull in nothing of the server).
const SHARED_PURE = new Set(["server/core/duration.js", "server/core/limits.js", "server/options.js"]);

test("client/cli imports client/ts, and server/ only lazily (or an import-free shared module)", () => {
  const bad = localEdges("client/cli").filter((e) => !inside(e.to, "client/cli", "client/ts") && !(inside(e.to, "server") && e.lazy) && !SHARED_PURE.has(e.to));
  assert.deepEqual(bad, [], show(bad));
  for (const shared of SHARED_PURE) {
    const imports = importsOf(shared.replace(/\.js$/, ".ts"));
    assert.deepEqual(imports, [], `${shared} is shared with the CLI, so it must import nothing:\n${show(imports)}`);
  }
});

test("nothing hand-written lives under gen/: every file there is generated TypeScript", () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(join(repoRoot, d))) {
      const p = join(d, entry);
      if (statSync(join(repoRoot, p)).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk("gen");
  // A vendored proto's license header comes first in its generated file (proto/google, proto/grpc).
  const generated = (text: string) => /^(\/\/[^\n]*\n|\n)*?\/\/ @generated by /.test(text);
  const handWritten = files.filter((f) => !inside(f, "gen/ts") || !generated(readFileSync(join(repoRoot, f), "utf8")));
  assert.deepEqual(handWritten, []);
  assert.ok(files.length >= 6, `gen/ts holds the messages and nice-grpc definitions of the three services (found ${files.length})`);
});
