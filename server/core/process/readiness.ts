// Readiness and liveness probes of one run: tcp connect, exec (exit 0), a log line matching a
// regex, or a gRPC health check; run on timers (period, timeout, initial delay) with
// success/failure thresholds, reporting each change of the verdict to the program.
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import type { LogFile } from "./log-file.js";
import { onAbort } from "../os/abort.js";
import { signalGroup } from "../os/proc.js";
import type { ProbeCheck, ProbeConfig, ProbeStatus } from "./types.js";

/** SERVING in grpc.health.v1.HealthCheckResponse.ServingStatus. */
const GRPC_SERVING = 1;

export interface ProbeContext {
  cwd: string;
  env: Record<string, string>;
  stdout: LogFile;
  stderr: LogFile;
  /** Logical offsets where this run's output starts, so older runs' lines never match. */
  startOffsets: { stdout: number; stderr: number };
}

type CheckResult = { ok: boolean; message: string };

/**
 * Runs one probe until stopped. onVerdict is called when the thresholded verdict changes
 * (the first verdict included); onResult after every check.
 */
export class ProbeRunner {
  status?: ProbeStatus;
  private verdict?: boolean;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly logScan: { offsets: { stdout: number; stderr: number }; partial: { stdout: string; stderr: string }; matched?: string };

  constructor(
    private readonly config: ProbeConfig,
    private readonly context: ProbeContext,
    private readonly onVerdict: (ok: boolean, status: ProbeStatus) => void,
  ) {
    this.logScan = { offsets: { ...context.startOffsets }, partial: { stdout: "", stderr: "" } };
  }

  start(): void {
    this.schedule(this.config.initialDelayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const started = performance.now();
    let result: CheckResult;
    try {
      result = await withDeadline(this.check(this.config.check), this.config.timeoutMs);
    } catch (error) {
      result = { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    if (this.stopped) return;
    const previous = this.status;
    const status: ProbeStatus = {
      ok: result.ok,
      message: result.message,
      time: new Date(),
      consecutiveSuccesses: result.ok ? (previous?.consecutiveSuccesses ?? 0) + 1 : 0,
      consecutiveFailures: result.ok ? 0 : (previous?.consecutiveFailures ?? 0) + 1,
    };
    this.status = status;
    let verdict = this.verdict;
    if (status.consecutiveSuccesses >= this.config.successThreshold) verdict = true;
    else if (status.consecutiveFailures >= this.config.failureThreshold) verdict = false;
    if (verdict !== undefined && verdict !== this.verdict) {
      this.verdict = verdict;
      this.onVerdict(verdict, status);
    }
    if (this.stopped) return;
    this.schedule(Math.max(0, this.config.periodMs - (performance.now() - started)));
  }

  private check(check: ProbeCheck): Promise<CheckResult> {
    switch (check.kind) {
      case "tcp":
        return checkTcp(check.host, check.port, this.config.timeoutMs);
      case "exec":
        return checkExec(check.command, this.context, this.config.timeoutMs, this.abort.signal);
      case "log":
        return this.checkLog(check.pattern, check.stream);
      case "grpc":
        return checkGrpc(check.address, check.service, this.config.timeoutMs);
    }
  }

  /** Reads what the run wrote since the last check; once a line matched, the probe passes for good. */
  private async checkLog(pattern: string, stream: "stdout" | "stderr" | undefined): Promise<CheckResult> {
    const scan = this.logScan;
    if (scan.matched !== undefined) return { ok: true, message: `matched: ${scan.matched}` };
    const regex = new RegExp(pattern);
    for (const name of stream ? [stream] : (["stdout", "stderr"] as const)) {
      const file = name === "stdout" ? this.context.stdout : this.context.stderr;
      for (;;) {
        const chunk = await file.read(scan.offsets[name]);
        if (chunk.data.length === 0) break;
        scan.offsets[name] = chunk.offset + chunk.data.length;
        const lines = (scan.partial[name] + chunk.data.toString("utf8")).split("\n");
        scan.partial[name] = (lines.pop() ?? "").slice(-64 * 1024);
        const hit = lines.find((line) => regex.test(line));
        if (hit !== undefined) {
          scan.matched = hit.slice(0, 200);
          return { ok: true, message: `matched: ${scan.matched}` };
        }
      }
    }
    return { ok: false, message: `no line matched /${pattern}/ yet` };
  }
}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function checkTcp(host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: CheckResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, message: `connect to ${host}:${port} timed out` }));
    socket.once("connect", () => done({ ok: true, message: `${host}:${port} accepted a connection` }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ ok: false, message: `connect to ${host}:${port}: ${error.code ?? error.message}` }));
  });
}

function checkExec(command: string[], context: ProbeContext, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), {
      cwd: context.cwd,
      env: { ...process.env, ...context.env },
      stdio: "ignore",
      // Its own group, so a timeout kills whatever the probe command started.
      detached: true,
    });
    const killGroup = () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) signalGroup(child.pid, "SIGKILL");
    };
    const timer = setTimeout(killGroup, timeoutMs);
    const removeOnAbort = onAbort(signal, killGroup);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      removeOnAbort();
      resolve({ ok: false, message: `${command[0]}: ${error.code ?? error.message}` });
    });
    child.once("exit", (code, sig) => {
      clearTimeout(timer);
      removeOnAbort();
      if (code === 0) resolve({ ok: true, message: "exit code 0" });
      else resolve({ ok: false, message: sig ? `killed by ${sig}` : `exit code ${code}` });
    });
  });
}

async function checkGrpc(address: string, service: string, timeoutMs: number): Promise<CheckResult> {
  // Loaded only when a program has a grpc probe.
  const [{ createChannel, createClient }, { HealthDefinition }] = await Promise.all([import("nice-grpc"), import("nice-grpc-server-health")]);
  const channel = createChannel(address);
  try {
    const client = createClient(HealthDefinition, channel);
    const response = await client.check({ service }, { signal: AbortSignal.timeout(timeoutMs) });
    return response.status === GRPC_SERVING ? { ok: true, message: `${address}: SERVING` } : { ok: false, message: `${address}: status ${response.status}` };
  } catch (error) {
    return { ok: false, message: `${address}: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    channel.close();
  }
}
