// The runner's side of bench/limit/grpc-server.ts: starts it in its own process and gives a
// grpc-js client of it (one per channel, for the fan-out row's separate subscribers).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { limitService } from "../limit/grpc-service.js";

const serverPath = fileURLToPath(new URL("../limit/grpc-server.js", import.meta.url));
const LimitClient = grpc.makeGenericClientConstructor(limitService, "Limit");
type LimitClientInstance = InstanceType<typeof LimitClient>;

export class LimitGrpc {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly address: string,
  ) {}

  static async start(): Promise<LimitGrpc> {
    const dir = mkdtempSync(join(tmpdir(), "corral-bench-limit-"));
    const socket = join(dir, "limit.sock");
    const child = spawn(process.execPath, [serverPath, socket], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once("data", () => resolve());
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`limit gRPC server exited (${code})`)));
    });
    return new LimitGrpc(child, dir, `unix://${socket}`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  client(): LimitClientInstance {
    // A channel of its own (grpc-js shares subchannels between clients with equal options).
    return new LimitClient(this.address, grpc.credentials.createInsecure(), { "grpc.bench_channel": Math.random() });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function unary(client: LimitClientInstance, method: "status" | "emit"): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    (client[method] as (req: Buffer, cb: (error: grpc.ServiceError | null, value?: Buffer) => void) => void)(Buffer.alloc(0), (error, value) =>
      error ? reject(error) : resolve(value!),
    );
  });
}
