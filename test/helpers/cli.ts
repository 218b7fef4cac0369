// Runs the real `corral` CLI (bin/corral.js) against a test daemon.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./daemon.js";

export const corralBin = join(repoRoot, "bin/corral.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `corral ARGS` to completion (30 s at most) with CORRAL_ADDRESS=address; rejects if it does not finish. */
export function corral(args: string[], address: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [corralBin, ...args], { timeout: 30_000, env: { ...process.env, CORRAL_ADDRESS: address, ...env } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        reject(new Error(`corral ${args.join(" ")} did not finish: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}
