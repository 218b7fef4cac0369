// Help texts of the `corral` command, made from the one definition in spec.ts, and the error type
// for bad command lines (exit code 2). Imports only that pure data, so `corral --help` and usage
// errors load nothing else.
import { COMMANDS, GLOBAL_OPTIONS, isCommand, type CommandSpec, type OptionSpec } from "./spec.js";

/** A command line that cannot be understood; main prints it with the command's usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The subcommand whose usage to show (undefined: the overview). */
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/** "--timeout DURATION", "-f, --follow", "--label k=v (repeatable)". */
function optionForm(name: string, option: OptionSpec): string {
  const value = option.type === "string" ? ` ${option.value ?? "VALUE"}` : "";
  return `${option.short ? `-${option.short}, ` : ""}--${name}${value}`;
}

/** The bracketed option list of a usage line. */
function usageOptions(options: Readonly<Record<string, OptionSpec>>): string {
  return Object.entries(options)
    .map(([name, option]) => `[--${name}${option.type === "string" ? ` ${option.value ?? "VALUE"}` : ""}]${option.multiple ? "..." : ""}`)
    .join(" ");
}

function usageLine(words: string, spec: CommandSpec): string {
  return ["corral", words, spec.args ?? "", usageOptions(spec.options)].filter(Boolean).join(" ");
}

/** One line: how to call a command (the overview's line for an unknown one). */
export function commandUsage(command: string): string {
  if (!isCommand(command)) return "usage: corral [GLOBAL OPTIONS] COMMAND [ARGS]";
  const spec: CommandSpec = COMMANDS[command];
  if (spec.subcommands) return `usage: corral ${command} ${Object.keys(spec.subcommands).join("|")} ...`;
  return `usage: ${usageLine(command, spec)}`;
}

/** Options as an aligned two-column list, descriptions wrapped to the width. */
function optionTable(options: Readonly<Record<string, OptionSpec>>, indent = "  "): string[] {
  const entries = Object.entries(options).map(
    ([name, option]) => [optionForm(name, option), option.description + (option.multiple ? " (repeatable)" : "")] as const,
  );
  if (entries.length === 0) return [];
  const width = Math.min(26, Math.max(...entries.map(([form]) => form.length)));
  const lines: string[] = [];
  for (const [form, description] of entries) {
    const wrapped = wrap(description, 100 - indent.length - width - 2);
    if (form.length > width) {
      lines.push(`${indent}${form}`);
      for (const line of wrapped) lines.push(`${indent}${" ".repeat(width)}  ${line}`);
    } else {
      wrapped.forEach((line, i) => lines.push(`${indent}${i === 0 ? form.padEnd(width) : " ".repeat(width)}  ${line}`));
    }
  }
  return lines;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The full help text for one command: what `corral help COMMAND` and `corral COMMAND --help` print. */
export function commandHelp(command: string): string {
  if (!isCommand(command)) return overview();
  const spec: CommandSpec = COMMANDS[command];
  const lines = [commandUsage(command), "", `  ${spec.summary}`];
  const options = optionTable(spec.options);
  if (options.length > 0) lines.push("", "options:", ...options);
  if (spec.subcommands) {
    lines.push("", "subcommands:");
    for (const [name, sub] of Object.entries(spec.subcommands)) {
      lines.push(`  ${usageLine(`${command} ${name}`, sub)}`, `      ${sub.summary}`, ...optionTable(sub.options, "      "));
    }
  }
  if (spec.details) lines.push("", spec.details);
  if (!spec.offline) lines.push("", "global options (before or after the command):", ...optionTable(GLOBAL_OPTIONS));
  return `${lines.join("\n")}\n`;
}

/** The overview: what `corral`, `corral help` and `corral --help` print. */
export function overview(): string {
  const width = Math.max(...COMMAND_NAMES.map((c) => c.length));
  const lines = [
    "usage: corral [GLOBAL OPTIONS] COMMAND [ARGS]",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`),
    "",
    "global options:",
    ...optionTable(GLOBAL_OPTIONS),
    "",
    "Durations are written like 500ms, 10s, 1m30s, or 30 (seconds), as in the config.",
    "Every command that talks to the daemon takes --json. Exit codes: 0 ok, 1 failed, 2 usage,",
    "3 not running (status: a selected program is not RUNNING; stop: none was running).",
    "`corral help COMMAND` shows a command's options.",
  ];
  return `${lines.join("\n")}\n`;
}
