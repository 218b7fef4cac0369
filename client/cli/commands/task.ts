// `corral task SUBCOMMAND ...`: the TaskRunner from the command line. Lock tokens come from
// --token or $CORRAL_TASK_TOKEN; JSON values (args, settings, method args) are given as JSON text.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { durationFromMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { fromValue, TaskInfoSchema, TaskState, TaskTypeInfoSchema, toValue, type JsonValue, type TaskInfo } from "../../ts/index.js";
import { parseCount, parseDuration, parsing } from "../args.js";
import { isAbortError, open, quick, type CliContext } from "../context.js";
import { formatTable, formatTime, jsonLine } from "../format.js";
import { UsageError } from "../usage.js";

const CMD = "task";

export const TASK_SUBCOMMANDS = ["types", "create", "start", "stop", "join", "ls", "status", "settings", "lock", "unlock", "call", "watch", "rm"];

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

const tokenOption = { token: { type: "string" } } as const;
const tokenOf = (values: { token?: string }) => values.token ?? process.env.CORRAL_TASK_TOKEN ?? "";

function describe(task: TaskInfo): string {
  const error = task.error ? `: ${task.error.message}` : "";
  return `${task.name} (${task.type}): ${taskStateName(task.state)}${task.stopRequested && task.state === TaskState.RUNNING ? " (stop requested)" : ""}${error}\n`;
}

export async function task(ctx: CliContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError("missing subcommand", CMD);
  const tr = ctx.tasks;
  const parse = <const O extends NonNullable<ParseArgsConfig["options"]>>(options: O) =>
    parsing(CMD, () => parseArgs({ args: rest, allowPositionals: true, options }));

  switch (sub) {
    case "types": {
      const { values } = parse({ json: { type: "boolean" } });
      const { types } = await tr.listTaskTypes({}, quick(ctx));
      if (values.json) ctx.out(types.map((t) => jsonLine(TaskTypeInfoSchema, t)).join(""));
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
      const { values, positionals } = parse({
        args: { type: "string" },
        settings: { type: "string" },
        start: { type: "boolean" },
        restore: { type: "boolean" },
      });
      const [name, type] = one(positionals, ["NAME", "TYPE"]);
      const created = await tr.createTask(
        {
          name,
          type,
          args: toValue(values.args === undefined ? null : parseJson(values.args as string, "--args")),
          settings: values.settings === undefined ? undefined : toValue(parseJson(values.settings as string, "--settings")),
          restore: values.restore === true,
        },
        quick(ctx),
      );
      const info = values.start ? (await tr.startTask({ name }, quick(ctx))).task! : created.task!;
      ctx.out(describe(info));
      return 0;
    }
    case "start":
    case "stop":
    case "rm": {
      const { values, positionals } = parse({ ...tokenOption });
      const [name] = one(positionals, ["NAME"]);
      const request = { name: name!, token: tokenOf(values as { token?: string }) };
      const info =
        sub === "start"
          ? (await tr.startTask(request, quick(ctx))).task!
          : sub === "stop"
            ? (await tr.stopTask(request, quick(ctx))).task!
            : (await tr.removeTask(request, open(ctx))).task!;
      ctx.out(sub === "rm" ? `removed ${describe(info)}` : describe(info));
      return 0;
    }
    case "join": {
      const { values, positionals } = parse({ ...tokenOption, timeout: { type: "string" } });
      const [name] = one(positionals, ["NAME"]);
      const timeout = values.timeout === undefined ? undefined : durationFromMs(parseDuration(values.timeout as string, "--timeout", CMD));
      const info = (await tr.joinTask({ name: name!, token: tokenOf(values as { token?: string }), timeout }, open(ctx))).task!;
      ctx.out(describe(info));
      if (info.error?.stack) ctx.err(`${info.error.stack}\n`);
      return info.state === TaskState.FAILED ? 1 : 0;
    }
    case "ls": {
      const { values } = parse({ json: { type: "boolean" } });
      const { tasks } = await tr.listTasks({}, quick(ctx));
      if (values.json) ctx.out(tasks.map((t) => jsonLine(TaskInfoSchema, t)).join(""));
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
      const { positionals } = parse({});
      const [name] = one(positionals, ["NAME"]);
      ctx.out(`${JSON.stringify(fromValue((await tr.getStatus({ name: name! }, quick(ctx))).status))}\n`);
      return 0;
    }
    case "settings": {
      const { values, positionals } = parse({ ...tokenOption, set: { type: "string" }, pending: { type: "boolean" } });
      const [name] = one(positionals, ["NAME"]);
      if (values.set !== undefined) {
        const settings = toValue(parseJson(values.set as string, "--set"));
        await tr.setSettings({ name: name!, settings, token: tokenOf(values as { token?: string }) }, quick(ctx));
        ctx.out(`pending settings of ${name} set\n`);
      } else if (values.pending) {
        const response = await tr.getPendingSettings({ name: name! }, quick(ctx));
        ctx.out(response.pending ? `${JSON.stringify(fromValue(response.settings))}\n` : "(none)\n");
      } else {
        ctx.out(`${JSON.stringify(fromValue((await tr.getSettings({ name: name! }, quick(ctx))).settings))}\n`);
      }
      return 0;
    }
    case "lock": {
      const { values, positionals } = parse({ ...tokenOption, timeout: { type: "string" }, lease: { type: "string" } });
      const [name] = one(positionals, ["NAME"]);
      const ms = (option: "timeout" | "lease") =>
        values[option] === undefined ? undefined : durationFromMs(parseDuration(values[option] as string, `--${option}`, CMD));
      const grant = await tr.lock({ name: name!, token: tokenOf(values as { token?: string }), timeout: ms("timeout"), lease: ms("lease") }, open(ctx));
      if (!grant.granted) {
        ctx.err(`corral: ${name} is locked by another client\n`);
        return 1;
      }
      ctx.out(`${grant.token}\n`);
      if (grant.expiresAt) ctx.err(`lease expires at ${formatTime(grant.expiresAt)} unless renewed (lock again with --token)\n`);
      return 0;
    }
    case "unlock": {
      const { values, positionals } = parse({ ...tokenOption, force: { type: "boolean" } });
      const [name] = one(positionals, ["NAME"]);
      if (values.force) {
        const { wasLocked } = await tr.forceUnlock({ name: name! }, quick(ctx));
        ctx.out(wasLocked ? `${name} unlocked (forced)\n` : `${name} was not locked\n`);
        return 0;
      }
      const token = tokenOf(values as { token?: string });
      if (token === "") throw new UsageError("unlock needs --token (or $CORRAL_TASK_TOKEN), or --force", CMD);
      const { unlocked } = await tr.unlock({ name: name!, token }, quick(ctx));
      ctx.out(unlocked ? `${name} unlocked\n` : `${name} was not locked\n`);
      return 0;
    }
    case "call": {
      const { values, positionals } = parse({ ...tokenOption });
      const [name, method, argsJson] = one(positionals, ["NAME", "METHOD"]);
      const response = await tr.callMethod(
        {
          name: name!,
          method: method!,
          args: toValue(argsJson === undefined ? null : parseJson(argsJson, "ARGS")),
          token: tokenOf(values as { token?: string }),
        },
        quick(ctx),
      );
      ctx.out(`${JSON.stringify(fromValue(response.result))}\n`);
      return 0;
    }
    case "watch": {
      const { values, positionals } = parse({ signal: { type: "string", multiple: true }, after: { type: "string" }, json: { type: "boolean" } });
      const afterSeq = values.after === undefined ? 0n : parseCount(values.after as string, "--after", CMD);
      const stop = new AbortController();
      const onCtrlC = () => stop.abort();
      ctx.signal.addEventListener("abort", onCtrlC, { once: true });
      try {
        const stream = tr.watchSignals(
          { tasks: positionals, names: (values.signal as string[] | undefined) ?? [], afterSeq, liveOnly: values.after === undefined },
          { signal: stop.signal },
        );
        for await (const item of stream) {
          if (item.kind.case === "signal") {
            const s = item.kind.value;
            const payload = fromValue(s.payload);
            if (values.json) {
              ctx.out(
                `${JSON.stringify({ seq: Number(s.seq), time: s.time ? timestampDate(s.time).toISOString() : null, task: s.task, name: s.name, payload })}\n`,
              );
            } else ctx.out(`#${s.seq} ${formatTime(s.time)} ${s.task} ${s.name}${payload === null ? "" : ` ${JSON.stringify(payload)}`}\n`);
          } else if (item.kind.case === "gap") {
            ctx.out(`-- ${item.kind.value.missed} signals missed after #${item.kind.value.afterSeq} --\n`);
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
      throw new UsageError(`unknown task subcommand "${sub}" (one of: ${TASK_SUBCOMMANDS.join(", ")})`, CMD);
  }
}
