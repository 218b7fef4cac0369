// Runs the real `corral` CLI (bin/corral.js) against a test daemon.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./daemon.js";

/** This checkout's CLI; $CORRAL_TEST_CLI runs the CLI tests against another (an older build, an installed one). */
export const corralBin = process.env.CORRAL_TEST_CLI || join(repoRoot, "bin/corral.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `corral ARGS` to completion with CORRAL_ADDRESS=address (and env added); rejects if it does not finish. */
export function corral(args: string[], address: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runCorral([], args, { ...process.env, CORRAL_ADDRESS: address, ...env });
}

/** Runs `PREFIX... node bin/corral.js ARGS` (prefix e.g. ["ip", "netns", "exec", "ns1"]) with exactly env; 30 s at most. */
export function runCorral(prefix: string[], args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const [command, ...rest] = [...prefix, process.execPath, corralBin, ...args];
  return new Promise((resolve, reject) => {
    execFile(command!, rest, { timeout: 30_000, env }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`corral ${args.join(" ")} did not finish: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM (as Ctrl-C ends following), by the child's pid; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `corral ARGS` that runs until stopped (logs -f, top), collecting its output. */
export function spawnCorral(args: string[], address: string, env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, [corralBin, ...args], { env: { ...process.env, CORRAL_ADDRESS: address, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGTERM");
      return exited;
    },
  };
}
