// The npm package as a user gets it: `npm pack` of a clean copy of this checkout, `npm install -g`
// of the tarball into a temporary prefix, then the installed `corral --version`, `corral server`
// (with its built-in example, on a temporary home) and a TypeScript project compiled and run
// against the installed `corral/client` types. Nothing is reused between runs: the copy is built
// from source by the package's own `prepare` script, as `npm pack` does on a fresh machine.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "../helpers/daemon.js";
import { waitUntil } from "../helpers/wait.js";

const run = promisify(execFile);
const npm = (args: string[], cwd: string) =>
  // npm's own variables from an enclosing `npm test` (npm_config_*) would steer the child npm.
  run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, env: withoutNpmConfig(), maxBuffer: 16 << 20 });

function withoutNpmConfig(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.toLowerCase().startsWith("npm_")) env[key] = value;
  return { ...env, ...extra };
}

/** What the tarball may hold, as path patterns under package/. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^server\/config\/corral\.schema\.json$/,
  /^bin\/corral\.js$/,
  /^dist\/server\/.+\.js$/,
  /^dist\/gen\/ts\/.+\.(js|d\.ts)$/,
  /^dist\/client\/ts\/.+\.(js|d\.ts)$/,
  /^dist\/client\/cli\/[^/]+\.bundle\.mjs$/,
  // The web dashboard's page (bundled: its connect-web and protobuf-es are inside app.js).
  /^dist\/client\/web\/(index\.html|app\.js|app\.css)$/,
];
const REQUIRED = [
  "bin/corral.js",
  "dist/client/cli/main.bundle.mjs",
  "dist/client/cli/config-loader.bundle.mjs",
  "dist/client/web/index.html",
  "dist/client/web/app.js",
  "dist/client/web/app.css",
  "dist/server/main.js",
  "dist/client/ts/index.js",
  "dist/client/ts/index.d.ts",
];

/** Copies the files git would give a fresh clone (tracked, plus new files not ignored) from this checkout. */
async function copyCheckout(to: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, maxBuffer: 16 << 20 });
  for (const file of stdout.split("\0")) {
    // Deleted in the work tree, or a symlink such as a worktree's node_modules: not what a clone has.
    if (!file || !lstatSync(join(repoRoot, file), { throwIfNoEntry: false })?.isFile()) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(repoRoot, file), join(to, file));
  }
}

const CONSUMER = `import { connect, ProcessState, type ProcessInfo } from "corral/client";

const client = connect({ address: process.argv[2] });
const info = await client.processManager.getServerInfo({});
// If the package had no declarations, everything would be \`any\` and this line would not be an error.
// @ts-expect-error: version is a string
const wrong: number = info.version;
void wrong;
const list = await client.processManager.listProcesses({});
const names: string[] = list.processes.map((p: ProcessInfo) => p.name + ":" + (p.state === ProcessState.UNSPECIFIED ? "?" : "ok"));
console.log(JSON.stringify({ version: info.version, names }));
client.close();
`;

test("npm pack -> npm install -g gives a working corral: --version, server, and typed corral/client", { timeout: 900_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), "corral-package-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const source = join(work, "source");
  await copyCheckout(source);
  // The build tools (tsc, esbuild) come from this checkout's dev dependencies, as npm ci would install them.
  symlinkSync(join(repoRoot, "node_modules"), join(source, "node_modules"));

  // npm pack runs `prepare` (npm run build) in the copy, then packs what package.json's files allow.
  const { stdout: packed } = await npm(["pack", "--json", "--pack-destination", work], source);
  const [pack] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
  assert.ok(pack, "npm pack reported no tarball");
  const paths = pack.files.map((f) => f.path);
  const unexpected = paths.filter((p) => !ALLOWED.some((rule) => rule.test(p)));
  assert.deepEqual(unexpected, [], "the tarball holds files it should not");
  for (const file of REQUIRED) assert.ok(paths.includes(file), `the tarball lacks ${file}`);

  const prefix = join(work, "prefix");
  await npm(["install", "--global", "--prefix", prefix, "--prefer-offline", join(work, pack.filename)], work);
  const installed = join(prefix, "lib/node_modules/corral");
  const corralCmd = join(prefix, "bin/corral");
  const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
  // What a global install adds: the package's dependencies, and none of its dev or build tools.
  assert.equal(existsSync(join(installed, "node_modules/typescript")), false, "dev dependencies were installed");
  assert.equal(existsSync(join(installed, "node_modules/@bufbuild/buf-linux-x64")), false, "the buf binary was installed");

  const home = join(work, "home");
  const env = withoutNpmConfig({ CORRAL_HOME: home, PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}` });
  delete env.CORRAL_ADDRESS;
  const { stdout: printed } = await run(corralCmd, ["--version"], { env });
  assert.match(printed, new RegExp(`\\b${version.replaceAll(".", "\\.")}\\b`));

  const daemon = spawn(corralCmd, ["server", "--home", home], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  daemon.stdout.on("data", (d: Buffer) => (output += d.toString()));
  daemon.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.once("exit", (code) => resolve(code)));
  t.after(() => {
    // Only the daemon this test started, by its pid.
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill("SIGKILL");
  });
  const socket = join(home, "corral.sock");
  await waitUntil(() => existsSync(socket) || daemon.exitCode !== null, 60_000, `the installed daemon's socket\n${output}`);
  assert.equal(daemon.exitCode, null, `the installed daemon exited:\n${output}`);
  let status = "";
  await waitUntil(
    async () => {
      // Exit 3 while a program is not RUNNING (the example has one that waits to be started): still a table.
      status = await run(corralCmd, ["status"], { env }).then(
        (r) => r.stdout,
        (error: { stdout?: string }) => error.stdout ?? "",
      );
      return /\bticker\b/.test(status);
    },
    60_000,
    `corral status to list the example's programs\n${output}`,
  );
  assert.match(status, /\bweb\b/);

  // A TypeScript project using the installed package, compiled strictly with tsc and run.
  const consumer = join(work, "consumer");
  mkdirSync(join(consumer, "node_modules"), { recursive: true });
  symlinkSync(installed, join(consumer, "node_modules/corral"));
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        outDir: "out",
        types: ["node"],
        typeRoots: [join(repoRoot, "node_modules/@types")],
      },
      files: ["main.ts"],
    }),
  );
  writeFileSync(join(consumer, "main.ts"), CONSUMER);
  const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
  await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: consumer }).catch((error: { stdout?: string }) => {
    assert.fail(`the consumer does not compile against corral/client:\n${error.stdout ?? String(error)}`);
  });
  const { stdout: consumed } = await run(process.execPath, [join(consumer, "out/main.js"), `unix://${socket}`], { cwd: consumer });
  const answer = JSON.parse(consumed) as { version: string; names: string[] };
  assert.equal(answer.version, version);
  assert.ok(answer.names.includes("ticker:ok"), consumed);

  await run(corralCmd, ["shutdown"], { env });
  assert.equal(await exited, 0, output);
});
