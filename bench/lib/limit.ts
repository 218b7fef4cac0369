// The runner's side of bench/limit/worker.ts: a bare node process that spawns, holds and kills
// children and reads /proc when asked, so its figures are the limit for the same work.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LimitReply, LimitRequest } from "../limit/worker.js";

const workerPath = fileURLToPath(new URL("../limit/worker.js", import.meta.url));

export class LimitWorker {
  private constructor(readonly child: ChildProcess) {
    // One request at a time: an exit or error fails the pending one.
    child.on("error", (error) => this.pending?.(error));
    child.on("exit", (code) => this.pending?.(new Error(`the limit worker exited (${code})`)));
  }

  private pending: ((error: Error) => void) | undefined;

  static async start(): Promise<LimitWorker> {
    const child = fork(workerPath, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    await new Promise<void>((resolve, reject) => child.once("message", () => resolve()).once("error", reject));
    return new LimitWorker(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask(request: LimitRequest): Promise<LimitReply> {
    return new Promise((resolve, reject) => {
      this.pending = reject;
      this.child.once("message", (reply) => {
        this.pending = undefined;
        resolve(reply as LimitReply);
      });
      this.child.send(request);
    });
  }

  /** Spawns n detached `sleep 300` and waits for every 'spawn' event; the time taken. */
  spawn(n: number): Promise<LimitReply> {
    return this.ask({ op: "spawn", n });
  }

  /** SIGTERM to every group it holds, then waits until /proc shows none alive. */
  kill(): Promise<LimitReply> {
    return this.ask({ op: "kill" });
  }

  /** One plain pass over /proc/PID/{stat,status,fd} for each pid. */
  procPass(pids: number[]): Promise<LimitReply> {
    return this.ask({ op: "procPass", pids });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send({ op: "exit" } satisfies LimitRequest);
    await exited;
  }
}
