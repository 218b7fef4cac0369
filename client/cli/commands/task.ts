// `corral task SUBCOMMAND ...`: the TaskRunner from the command line. Lock tokens come from
// --token or $CORRAL_TASK_TOKEN; JSON values (args, settings, method args) are given as JSON text.
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  fromValue,
  LockResponseSchema,
  TaskInfoSchema,
  TaskSignalSchema,
  SignalGapSchema,
  TaskState,
  TaskTypeInfoSchema,
  toValue,
  type JsonValue,
  type TaskInfo,
} from "../../ts/index.js";
import { parseCount, parseDuration, parseOptions, type Parsed } from "../args.js";
import { isAbortError, open, quick, type CliContext } from "../context.js";
import { formatTable, formatTime } from "../format.js";
import { jsonOut, messageLine, toCliJson, type Json } from "../json.js";
import { COMMANDS } from "../spec.js";
import { didYouMean } from "../suggest.js";
import { UsageError } from "../usage.js";

const CMD = "task";

const SUBCOMMANDS = COMMANDS.task.subcommands;
export const TASK_SUBCOMMANDS = Object.keys(SUBCOMMANDS);

function parseJson(text: string, option: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new UsageError(`${option}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, CMD);
  }
}

/** TASK_STATE_RUNNING -> running. */
export function taskStateName(state: TaskState): string {
  return (TaskState[state] ?? String(state)).toLowerCase();
}

function one(positionals: string[], what: string[]): string[] {
  if (positionals.length < what.length) throw new UsageError(`missing ${what[positionals.length]}`, CMD);
  return positionals;
}

const tokenOf = (values: { token?: string }) => values.token ?? process.env.CORRAL_TASK_TOKEN ?? "";

function describe(task: TaskInfo): string {
  const error = task.error ? `: ${task.error.message}` : "";
  return `${task.name} (${task.type}): ${taskStateName(task.state)}${task.stopRequested && task.state === TaskState.RUNNING ? " (stop requested)" : ""}${error}\n`;
}

export async function task(ctx: CliContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError("missing subcommand", CMD);
  const tr = ctx.tasks;
  const parse = <const Name extends keyof typeof SUBCOMMANDS>(name: Name): Parsed<(typeof SUBCOMMANDS)[Name]["options"]> =>
    parseOptions(SUBCOMMANDS[name].options, rest, CMD);
  /** --json of commands that answer with a task: its TaskInfo object. */
  const printTask = (json: boolean | undefined, info: TaskInfo, text: string) => ctx.out(json ? messageLine(TaskInfoSchema, info) : text);

  switch (sub) {
    case "types": {
      const { values } = parse("types");
      const { types } = await tr.listTaskTypes({}, quick(ctx));
      if (values.json) ctx.out(jsonOut(types.map((t) => toCliJson(TaskTypeInfoSchema, t))));
      else {
        const rows = types.map((t) => [
          t.name,
          [t.loop ? "loop" : "", t.worker ? "worker" : ""].filter(Boolean).join(",") || "-",
          t.signals.join(",") || "-",
          t.methods.join(",") || "-",
          t.source,
        ]);
        ctx.out(formatTable(["TYPE", "KIND", "SIGNALS", "METHODS", "SOURCE"], rows));
      }
      return 0;
    }
    case "create": {
      const { values, positionals } = parse("create");
      const [name, type] = one(positionals, ["NAME", "TYPE"]);
      const created = await tr.createTask(
        {
          name,
          type,
          args: toValue(values.args === undefined ? null : parseJson(values.args, "--args")),
          settings: values.settings === undefined ? undefined : toValue(parseJson(values.settings, "--settings")),
          restore: values.restore === true,
        },
        quick(ctx),
      );
      const info = values.start ? (await tr.startTask({ name }, quick(ctx))).task! : created.task!;
      printTask(values.json, info, describe(info));
      return 0;
    }
    case "start":
    case "stop":
    case "rm": {
      const { values, positionals } = parse(sub);
      const [name] = one(positionals, ["NAME"]);
      const request = { name: name!, token: tokenOf(values) };
      const info =
        sub === "start"
          ? (await tr.startTask(request, quick(ctx))).task!
          : sub === "stop"
            ? (await tr.stopTask(request, quick(ctx))).task!
            : (await tr.removeTask(request, open(ctx))).task!;
      printTask(values.json, info, sub === "rm" ? `removed ${describe(info)}` : describe(info));
      return 0;
    }
    case "join": {
      const { values, positionals } = parse("join");
      const [name] = one(positionals, ["NAME"]);
      const timeout = values.timeout === undefined ? undefined : durationFromMs(parseDuration(values.timeout, "--timeout", CMD));
      const info = (await tr.joinTask({ name: name!, token: tokenOf(values), timeout }, open(ctx))).task!;
      printTask(values.json, info, describe(info));
      if (info.error?.stack && !values.json) ctx.err(`${info.error.stack}\n`);
      return info.state === TaskState.FAILED ? 1 : 0;
    }
    case "ls": {
      const { values } = parse("ls");
      const { tasks } = await tr.listTasks({}, quick(ctx));
      if (values.json) ctx.out(jsonOut(tasks.map((t) => toCliJson(TaskInfoSchema, t))));
      else {
        const rows = tasks.map((t) => [
          t.name,
          t.type,
          taskStateName(t.state),
          t.locked ? "yes" : "-",
          formatTime(t.startedAt).trim(),
          JSON.stringify(fromValue(t.status)),
        ]);
        ctx.out(formatTable(["NAME", "TYPE", "STATE", "LOCKED", "STARTED", "STATUS"], rows));
      }
      return 0;
    }
    case "status": {
      // The status is JSON already: printed as is, with or without --json.
      const { positionals } = parse("status");
      const [name] = one(positionals, ["NAME"]);
      ctx.out(jsonOut(fromValue((await tr.getStatus({ name: name! }, quick(ctx))).status) as Json));
      return 0;
    }
    case "settings": {
      const { values, positionals } = parse("settings");
      const [name] = one(positionals, ["NAME"]);
      if (values.set !== undefined) {
        const settings = toValue(parseJson(values.set, "--set"));
        await tr.setSettings({ name: name!, settings, token: tokenOf(values) }, quick(ctx));
        ctx.out(values.json ? jsonOut({ name: name!, pending: true }) : `pending settings of ${name} set\n`);
      } else if (values.pending) {
        const response = await tr.getPendingSettings({ name: name! }, quick(ctx));
        // --json: the pending value, or null when there is none.
        if (values.json) ctx.out(jsonOut(response.pending ? (fromValue(response.settings) as Json) : null));
        else ctx.out(response.pending ? `${JSON.stringify(fromValue(response.settings))}\n` : "(none)\n");
      } else {
        ctx.out(`${JSON.stringify(fromValue((await tr.getSettings({ name: name! }, quick(ctx))).settings))}\n`);
      }
      return 0;
    }
    case "lock": {
      const { values, positionals } = parse("lock");
      const [name] = one(positionals, ["NAME"]);
      const ms = (option: "timeout" | "lease") => {
        const text = values[option];
        return text === undefined ? undefined : durationFromMs(parseDuration(text, `--${option}`, CMD));
      };
      const grant = await tr.lock({ name: name!, token: tokenOf(values), timeout: ms("timeout"), lease: ms("lease") }, open(ctx));
      if (values.json) {
        ctx.out(messageLine(LockResponseSchema, grant));
        return grant.granted ? 0 : 1;
      }
      if (!grant.granted) {
        ctx.err(`corral: ${name} is locked by another client\n`);
        return 1;
      }
      ctx.out(`${grant.token}\n`);
      if (grant.expiresAt) ctx.err(`lease expires at ${formatTime(grant.expiresAt)} unless renewed (lock again with --token)\n`);
      return 0;
    }
    case "unlock": {
      const { values, positionals } = parse("unlock");
      const [name] = one(positionals, ["NAME"]);
      // --json: {"name", "unlocked": was it locked (and is it no longer)}.
      if (values.force) {
        const { wasLocked } = await tr.forceUnlock({ name: name! }, quick(ctx));
        ctx.out(values.json ? jsonOut({ name: name!, unlocked: wasLocked }) : wasLocked ? `${name} unlocked (forced)\n` : `${name} was not locked\n`);
        return 0;
      }
      const token = tokenOf(values);
      if (token === "") throw new UsageError("unlock needs --token (or $CORRAL_TASK_TOKEN), or --force", CMD);
      const { unlocked } = await tr.unlock({ name: name!, token }, quick(ctx));
      ctx.out(values.json ? jsonOut({ name: name!, unlocked }) : unlocked ? `${name} unlocked\n` : `${name} was not locked\n`);
      return 0;
    }
    case "call": {
      const { values, positionals } = parse("call");
      const [name, method, argsJson] = one(positionals, ["NAME", "METHOD"]);
      const response = await tr.callMethod(
        {
          name: name!,
          method: method!,
          args: toValue(argsJson === undefined ? null : parseJson(argsJson, "ARGS")),
          token: tokenOf(values),
        },
        quick(ctx),
      );
      ctx.out(jsonOut(fromValue(response.result) as Json));
      return 0;
    }
    case "watch": {
      const { values, positionals } = parse("watch");
      const afterSeq = values.after === undefined ? 0n : parseCount(values.after, "--after", CMD);
      const stop = new AbortController();
      const onCtrlC = () => stop.abort();
      ctx.signal.addEventListener("abort", onCtrlC, { once: true });
      try {
        const stream = tr.watchSignals(
          { tasks: positionals, names: values.signal ?? [], afterSeq, liveOnly: values.after === undefined },
          { signal: stop.signal },
        );
        for await (const item of stream) {
          if (item.kind.case === "signal") {
            const s = item.kind.value;
            const payload = fromValue(s.payload);
            if (values.json) ctx.out(messageLine(TaskSignalSchema, s));
            else ctx.out(`#${s.seq} ${formatTime(s.time)} ${s.task} ${s.name}${payload === null ? "" : ` ${JSON.stringify(payload)}`}\n`);
          } else if (item.kind.case === "gap") {
            if (values.json) ctx.out(jsonOut({ gap: toCliJson(SignalGapSchema, item.kind.value) }));
            else ctx.out(`-- ${item.kind.value.missed} signals missed after #${item.kind.value.afterSeq} --\n`);
          }
        }
      } catch (error) {
        if (isAbortError(error) && stop.signal.aborted) return 0;
        throw error;
      } finally {
        ctx.signal.removeEventListener("abort", onCtrlC);
        stop.abort();
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown task subcommand "${sub}"${didYouMean(sub, TASK_SUBCOMMANDS) || ` (one of: ${TASK_SUBCOMMANDS.join(", ")})`}`, CMD);
  }
}
