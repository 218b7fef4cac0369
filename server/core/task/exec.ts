// The built-in `exec` task type: a child process in any language that speaks JSON lines on
// stdio. The daemon writes {"type":"start",args,settings}, {"type":"settings",settings} and
// {"type":"stop"} to its stdin; the child writes {"type":"status",status},
// {"type":"signal",name,payload} and {"type":"log",message,level} to its stdout (any other
// line is a log line). Exit 0 is completion; a child that ignores "stop" gets SIGTERM after
// stop_timeout_ms, then SIGKILL, sent to its whole process group.
//
// Methods (args.methods): CallMethod writes {"type":"call",id,method,args,settings,pending_settings};
// the child answers {"type":"result",id,result} or {"type":"result",id,error}, and may put
// "set_settings" in the result: stored as the new pending settings only if no other settings
// arrived since the call was sent (else the call fails: retry), so read-modify-write is atomic.
// With args.hold_settings, settings stay pending: the daemon writes {"type":"settings_pending",
// settings} and applies them when the child writes {"type":"update_settings"} (answered by
// {"type":"settings",settings,updated}), like QMI's update_settings().
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
  methods: string[];
  hold_settings: boolean;
}

/** Method calls waiting for the child's answer; bounded (a child that never answers cannot grow it). */
const MAX_CALLS_IN_FLIGHT = 64;
const METHOD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_LINES = 20;

function argError(field: string, rule: string): Error {
  return Object.assign(new Error(rule), { field });
}

function parseArgs(args: JsonValue): ExecArgs {
  if (typeof args !== "object" || args === null || Array.isArray(args)) throw argError("command", "exec needs args {command: [program, ...args]}");
  const { command, cwd, env, stop_timeout_ms: stopTimeout, methods, hold_settings: holdSettings } = args;
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === "string" && part !== "")) {
    throw argError("command", "must be a non-empty list of non-empty strings");
  }
  if (cwd !== undefined && typeof cwd !== "string") throw argError("cwd", "must be a string");
  if (env !== undefined && (typeof env !== "object" || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === "string"))) {
    throw argError("env", "must be a map of strings");
  }
  if (stopTimeout !== undefined && (typeof stopTimeout !== "number" || stopTimeout < 0)) throw argError("stop_timeout_ms", "must be a number >= 0");
  if (methods !== undefined && (!Array.isArray(methods) || !methods.every((m) => typeof m === "string" && METHOD_NAME.test(m)))) {
    throw argError("methods", `must be a list of method names matching ${METHOD_NAME}`);
  }
  if (holdSettings !== undefined && typeof holdSettings !== "boolean") throw argError("hold_settings", "must be true or false");
  return {
    command: command as string[],
    cwd: cwd as string | undefined,
    env: env as Record<string, string> | undefined,
    args: args.args,
    stop_timeout_ms: (stopTimeout as number | undefined) ?? 5_000,
    methods: (methods as string[] | undefined) ?? [],
    hold_settings: holdSettings === true,
  };
}

export class ExecTask {
  static taskType = "exec";
  static description = "a child process speaking JSON lines on stdio (args: command, cwd, env, args, stop_timeout_ms, methods, hold_settings)";
  static signals = ["log"];
  private readonly spec: ExecArgs;
  readonly instanceMethods: readonly string[];
  private send: ((message: JsonValue) => boolean) | undefined;
  private nextCallId = 1;
  /** Settings SetSettings stored since start: a method's set_settings applies only if it has not moved. */
  private settingsVersion = 0;
  private readonly calls = new Map<number, { resolve: (result: JsonValue) => void; reject: (error: Error) => void; version: number }>();

  constructor(args: JsonValue) {
    this.spec = parseArgs(args);
    this.instanceMethods = this.spec.methods;
  }

  /** A declared method: asks the child, waits for its result (or its exit). */
  callInstanceMethod(method: string, args: JsonValue, ctx: TaskContext): Promise<JsonValue> {
    if (!this.send) return Promise.reject(new Error("the task's child is not running"));
    if (this.calls.size >= MAX_CALLS_IN_FLIGHT) return Promise.reject(new Error(`${MAX_CALLS_IN_FLIGHT} method calls already wait for the child`));
    const id = this.nextCallId++;
    const pending = ctx.pendingSettings;
    const promise = new Promise<JsonValue>((resolve, reject) => this.calls.set(id, { resolve, reject, version: this.settingsVersion }));
    if (!this.send({ type: "call", id, method, args, settings: ctx.settings, pending_settings: pending === undefined ? null : pending })) {
      this.calls.delete(id);
      return Promise.reject(new Error("the task's child closed its stdin"));
    }
    return promise;
  }

  private onResult(m: Record<string, JsonValue>, ctx: TaskContext): void {
    const call = typeof m.id === "number" ? this.calls.get(m.id) : undefined;
    if (!call) return;
    this.calls.delete(m.id as number);
    if (m.error !== undefined && m.error !== null) {
      call.reject(new Error(typeof m.error === "string" ? m.error : JSON.stringify(m.error)));
      return;
    }
    if (m.set_settings !== undefined) {
      if (this.settingsVersion !== call.version) {
        call.reject(new Error("settings changed while the method ran; its set_settings was not stored (call it again)"));
        return;
      }
      try {
        ctx.changeSettings(() => m.set_settings as JsonValue);
      } catch (error) {
        call.reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
    call.resolve(m.result ?? null);
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
    const send = (message: JsonValue): boolean => {
      if (!child.stdin.writable) return false;
      child.stdin.write(`${JSON.stringify(message)}\n`);
      return true;
    };
    this.send = send;
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

    createInterface({ input: child.stdout }).on("line", (line) => this.onLine(line, ctx, send));
    createInterface({ input: child.stderr }).on("line", (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      safePublish(ctx, "log", { stream: "stderr", message: line });
    });

    ctx.updateSettings();
    send({ type: "start", args: this.spec.args ?? null, settings: ctx.settings });
    const unsubscribe = ctx.onPendingSettings(() => {
      this.settingsVersion++;
      if (this.spec.hold_settings) send({ type: "settings_pending", settings: ctx.pendingSettings ?? null });
      else if (ctx.updateSettings()) send({ type: "settings", settings: ctx.settings });
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
      this.send = undefined;
      for (const call of this.calls.values()) call.reject(new Error("the task's child exited before answering"));
      this.calls.clear();
      unsubscribe();
      removeOnStop();
      clearTimeout(termTimer);
      // Whatever the child left in its group does not outlive the task (a stop under way finishes its own way).
      if (group && !stopping) void stopProcessGroup(group, { signal: "SIGKILL", timeoutMs: 0 });
    }
  }

  private onLine(line: string, ctx: TaskContext, send: (message: JsonValue) => boolean): void {
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
      case "result":
        this.onResult(m, ctx);
        return;
      case "update_settings": {
        const updated = ctx.updateSettings();
        send({ type: "settings", settings: ctx.settings, updated });
        return;
      }
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
