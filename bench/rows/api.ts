// Rows for one call's cost: unary GetProcess at N programs (against a bare grpc-js unary server
// on a Unix socket, in blocks interleaved with corral's), and `corral status` as a user runs it
// (a new node process each time, its exit code and table checked) against `node -e 0`, with the
// same call from a bare grpc-js process beside it (bench/limit/cli-call.ts).
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { ListProcessesRequestSchema, ProcessView } from "../../client/ts/index.js";
import { corralBin } from "../../test/helpers/cli.js";
import type { BenchContext } from "../lib/context.js";
import { LimitGrpc, unary } from "../lib/limit-grpc.js";
import { median } from "../lib/proc.js";
import { atMost, informational, type BenchRow } from "../lib/row.js";

const cliCall = fileURLToPath(new URL("../limit/cli-call.js", import.meta.url));
const bundleScript = fileURLToPath(new URL("../../../scripts/bundle-cli.mjs", import.meta.url));

/** bench/limit/cli-call.ts as one file, bundled as the CLI is (by scripts/bundle-cli.mjs): loading hundreds of modules would be most of its time. */
function bundleCliCall(ctx: BenchContext): string {
  const dir = mkdtempSync(join(tmpdir(), "corral-bench-cli-call-"));
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, "cli-call.mjs");
  execFileSync(process.execPath, [bundleScript, cliCall, outfile], { stdio: "inherit" });
  return outfile;
}

export function limitGrpc(ctx: BenchContext): Promise<LimitGrpc> {
  return ctx.memo("limit-grpc", async () => {
    const server = await LimitGrpc.start();
    ctx.defer(() => server.close());
    return server;
  });
}

/** Median of sequential GetProcess calls (after a warm-up), in blocks alternating with the limit's. */
export function statusRow(n: number, options: { scale?: boolean } = {}): BenchRow {
  return {
    name: `GetProcess of one program, N=${n}, median`,
    baseline: "bare grpc-js unary, Unix socket",
    goal: options.scale ? informational : atMost(0.3, "ms"),
    scale: options.scale,
    async measure(ctx) {
      const daemon = await ctx.fleet(n);
      const server = await limitGrpc(ctx);
      const client = server.client();
      const pm = daemon.client.processManager;
      const name = `p${Math.floor(n / 2)}`;
      const warmup = ctx.pick(1000, 300);
      const blocks = ctx.pick(10, 4);
      const perBlock = ctx.pick(300, 200);
      ctx.progress(`GetProcess at N=${n}: ${warmup} warm-up calls, ${blocks}×${perBlock} measured`);
      for (let i = 0; i < warmup; i++) {
        await pm.getProcess({ name });
        await unary(client, "status");
      }
      const corral: number[] = [];
      const limit: number[] = [];
      for (let b = 0; b < blocks; b++) {
        for (let i = 0; i < perBlock; i++) {
          const t0 = performance.now();
          await pm.getProcess({ name });
          corral.push(performance.now() - t0);
        }
        for (let i = 0; i < perBlock; i++) {
          const t0 = performance.now();
          await unary(client, "status");
          limit.push(performance.now() - t0);
        }
      }
      client.close();
      const sorted = [...corral].sort((a, b) => a - b);
      return {
        corral: median(corral),
        baseline: median(limit),
        unit: "ms",
        detail: `${corral.length} calls after ${warmup} warm-up; p90 ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(3)} ms`,
      };
    },
  };
}

export const cliStatusRow = (n: number): BenchRow => ({
  name: `CLI \`corral status\` round trip, N=${n}, median`,
  baseline: "node -e 0",
  goal: atMost(120, "ms"),
  async measure(ctx) {
    const daemon = await ctx.fleet(n);
    const status = () => {
      const t0 = performance.now();
      const run = spawnSync(process.execPath, [corralBin, "status", "--address", daemon.address], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
      const elapsed = performance.now() - t0;
      checkStatusTable(run, n);
      return elapsed;
    };
    const bareNode = (args: string[]) => {
      const t0 = performance.now();
      execFileSync(process.execPath, args, { stdio: "ignore" });
      return performance.now() - t0;
    };
    // The floor under it, in steps (bench/limit/cli-call.ts): the same ListProcesses with grpc-js
    // alone, then with the reply decoded by protobuf-es too.
    const request = Buffer.from(toBinary(ListProcessesRequestSchema, create(ListProcessesRequestSchema, { view: ProcessView.BASIC }))).toString("hex");
    const callBundle = bundleCliCall(ctx);
    const call = (mode: "grpc" | "decode") => bareNode([callBundle, mode, daemon.address, request]);
    const reps = ctx.pick(20, 8);
    ctx.progress(`CLI status ×${reps}`);
    status(); // a compile cache, where there is one, is written here
    const corral: number[] = [];
    const bare: number[] = [];
    const grpcOnly: number[] = [];
    const decoded: number[] = [];
    for (let i = 0; i < reps; i++) {
      corral.push(status());
      bare.push(bareNode(["-e", "0"]));
      grpcOnly.push(call("grpc"));
      decoded.push(call("decode"));
    }
    return {
      corral: median(corral),
      baseline: median(bare),
      unit: "ms",
      detail: `${reps} runs each, interleaved, node ${process.version}; the same call from bare grpc-js ${median(grpcOnly).toFixed(0)} ms, and decoded by protobuf-es ${median(decoded).toFixed(0)} ms`,
    };
  },
});

/**
 * `corral status` exits 3 when a selected program is not RUNNING (README "Exit codes"), as the
 * fleet's are between rows, and 0 when all are; any other code, or output that is not the table
 * of all n programs, is a failed round trip.
 */
function checkStatusTable(run: SpawnSyncReturns<string>, n: number): void {
  const lines = run.stdout.trimEnd().split("\n");
  if ((run.status !== 0 && run.status !== 3) || !/^NAME\s+STATE\b/.test(lines[0] ?? "") || lines.length !== n + 1) {
    throw new Error(
      `corral status exited ${run.status ?? run.signal} with ${lines.length} lines (want 0 or 3, a header and ${n} programs): ${run.stderr.trim() || lines[0]}`,
    );
  }
}
