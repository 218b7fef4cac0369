// The built-in `exec` task type: a child process in any language that speaks JSON lines on
// stdio. The daemon writes {"type":"start",args,settings}, {"type":"settings",settings} and
// {"type":"stop"} to its stdin; the child writes {"type":"status",status},
// {"type":"signal",name,payload} and {"type":"log",message,level} to its stdout (any other
// line is a log line). Exit 0 is completion; a child that ignores "stop" gets SIGTERM after
// stop_timeout_ms, then SIGKILL, sent to its whole process group.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { onAbort } from "../os/abort.js";
import { stopProcessGroup, type ProcessGroupRef } from "../os/group-stop.js";
import { readStat } from "../os/proc.js";
import { TaskStopError, type JsonValue, type TaskContext } from "./types.js";

interface ExecArgs {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Passed to the child in the start message. */
  args?: JsonValue;
  stop_timeout_ms: number;
}

const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_LINES = 20;

function argError(field: string, rule: string): Error {
  return Object.assign(new Error(rule), { field });
}

function parseArgs(args: JsonValue): ExecArgs {
  if (typeof args !== "object" || args === null || Array.isArray(args)) throw argError("command", "exec needs args {command: [program, ...args]}");
  const { command, cwd, env, stop_timeout_ms: stopTimeout } = args;
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === "string" && part !== "")) {
    throw argError("command", "must be a non-empty list of non-empty strings");
  }
  if (cwd !== undefined && typeof cwd !== "string") throw argError("cwd", "must be a string");
  if (env !== undefined && (typeof env !== "object" || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === "string"))) {
    throw argError("env", "must be a map of strings");
  }
  if (stopTimeout !== undefined && (typeof stopTimeout !== "number" || stopTimeout < 0)) throw argError("stop_timeout_ms", "must be a number >= 0");
  return {
    command: command as string[],
    cwd: cwd as string | undefined,
    env: env as Record<string, string> | undefined,
    args: args.args,
    stop_timeout_ms: (stopTimeout as number | undefined) ?? 5_000,
  };
}

export class ExecTask {
  static taskType = "exec";
  static description = "a child process speaking JSON lines on stdio (args: command, cwd, env, args, stop_timeout_ms)";
  static signals = ["log"];
  private readonly spec: ExecArgs;

  constructor(args: JsonValue) {
    this.spec = parseArgs(args);
  }

  async run(ctx: TaskContext): Promise<void> {
    const [file, ...argv] = this.spec.command;
    const child = spawn(file!, argv, {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env, CORRAL_TASK: ctx.name },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true, // its own process group: a stop reaches the whole tree
    });
    // Recorded before anything else can happen: if the daemon dies now, the next one stops it.
    if (child.pid !== undefined) ctx.registerChild?.(child.pid);
    const stderrTail: string[] = [];
    const send = (message: JsonValue) => {
      if (child.stdin.writable) child.stdin.write(JSON.stringify(message) + "\n");
    };
    child.stdin.on("error", () => {
      // The child closed its stdin or exited: nothing more to tell it.
    });
    const group: ProcessGroupRef | undefined =
      child.pid === undefined
        ? undefined
        : { pgid: child.pid, leaderStartTicks: readStat(child.pid)?.startTicks ?? 0, leaderExited: () => child.exitCode !== null || child.signalCode !== null };
    let stopping: Promise<unknown> | undefined;

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => resolve({ code, signal }));
    });

    createInterface({ input: child.stdout }).on("line", (line) => this.onLine(line, ctx));
    createInterface({ input: child.stderr }).on("line", (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      safePublish(ctx, "log", { stream: "stderr", message: line });
    });

    ctx.updateSettings();
    send({ type: "start", args: this.spec.args ?? null, settings: ctx.settings });
    const unsubscribe = ctx.onPendingSettings(() => {
      if (ctx.updateSettings()) send({ type: "settings", settings: ctx.settings });
    });
    let termTimer: NodeJS.Timeout | undefined;
    const removeOnStop = onAbort(ctx.signal, () => {
      send({ type: "stop" });
      termTimer = setTimeout(() => {
        if (group) stopping = stopProcessGroup(group, { signal: "SIGTERM", timeoutMs: KILL_GRACE_MS });
      }, this.spec.stop_timeout_ms);
    });

    try {
      const { code, signal } = await exited;
      if (code === 0) return;
      if (ctx.stopRequested) throw new TaskStopError();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = stderrTail.length > 0 ? `; last stderr lines:\n${stderrTail.join("\n")}` : "";
      throw new Error(`${this.spec.command.join(" ")} ${how}${tail}`);
    } finally {
      unsubscribe();
      removeOnStop();
      clearTimeout(termTimer);
      // Whatever the child left in its group does not outlive the task (a stop under way finishes its own way).
      if (group && !stopping) void stopProcessGroup(group, { signal: "SIGKILL", timeoutMs: 0 });
    }
  }

  private onLine(line: string, ctx: TaskContext): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      safePublish(ctx, "log", { stream: "stdout", message: line });
      return;
    }
    const m = (typeof message === "object" && message !== null ? message : {}) as Record<string, JsonValue>;
    switch (m.type) {
      case "status":
        ctx.setStatus(m.status ?? null);
        return;
      case "signal":
        if (typeof m.name === "string") safePublish(ctx, m.name, m.payload ?? null);
        return;
      case "log":
        safePublish(ctx, "log", { stream: "stdout", level: m.level ?? "info", message: m.message ?? null });
        return;
      default:
        safePublish(ctx, "log", { stream: "stdout", message: line });
    }
  }
}

/** A child may name a reserved signal by mistake; that must not break the task. */
function safePublish(ctx: TaskContext, name: string, payload: JsonValue): void {
  try {
    ctx.publish(name, payload);
  } catch {
    ctx.publish("log", { stream: "stdout", level: "error", message: `refused signal name ${JSON.stringify(name)}` });
  }
}
