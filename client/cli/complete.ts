// Shell completion of the `corral` command. `corral completion bash|zsh|fish` prints a small script
// whose only job is to call `corral __complete WORDS...` on every TAB; the answers come from the
// one definition in spec.ts (commands, subcommands, options, their fixed values), and program and
// task names from the daemon when it answers within COMPLETION_DEADLINE_MS (else none).
import type { ConnectOptions } from "../ts/index.js";
import { COMMANDS, GLOBAL_OPTIONS, SHELLS, isCommand, type CommandSpec, type Completion, type OptionSpec } from "./spec.js";
import { UsageError } from "./usage.js";

/** A completion must never keep a person waiting at the prompt. */
const COMPLETION_DEADLINE_MS = 500;

/** First answer line telling the script to complete file (or directory) names itself. */
const FILES = ":files";
const DIRS = ":dirs";

interface Candidate {
  word: string;
  description: string;
}

/** Where the cursor is: the command and subcommand typed so far, and what the current word is. */
interface Position {
  spec?: CommandSpec;
  command?: string;
  /** Positional words given to the command (or subcommand) before the current one. */
  positionals: number;
  /** The string option whose value is being typed, if the previous word was one. */
  valueFor?: OptionSpec;
}

function findOption(name: string, spec: CommandSpec | undefined): OptionSpec | undefined {
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...(spec?.options ?? {}) };
  if (name.startsWith("--")) return all[name.slice(2)];
  return Object.values(all).find((option) => option.short === name.slice(1));
}

function locate(before: string[]): Position {
  const position: Position = { positionals: 0 };
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (word === "--") {
      // After "--" come a command's own words (create, run): nothing of ours to complete.
      return { positionals: Number.POSITIVE_INFINITY };
    }
    if (word.startsWith("-") && word.length > 1) {
      const option = findOption(word.split("=")[0]!, position.spec);
      if (option?.type === "string" && !word.includes("=")) {
        if (i === before.length - 1) position.valueFor = option;
        i++;
      }
      continue;
    }
    if (position.spec === undefined) {
      if (!isCommand(word)) return { positionals: Number.POSITIVE_INFINITY };
      position.command = word;
      position.spec = COMMANDS[word];
    } else if (position.spec.subcommands && position.positionals === 0 && position.spec.subcommands[word]) {
      position.spec = position.spec.subcommands[word];
    } else {
      position.positionals++;
    }
  }
  return position;
}

async function daemonNames(kind: "programs" | "tasks", connection: ConnectOptions): Promise<string[]> {
  const { connect } = await import("../ts/index.js");
  const corral = connect(connection);
  const options = { deadline: COMPLETION_DEADLINE_MS };
  try {
    if (kind === "programs") return (await corral.processManager.listProcesses({}, options)).processes.map((p) => p.name);
    return (await corral.taskRunner.listTasks({}, options)).tasks.map((t) => t.name);
  } catch {
    return []; // no daemon, or a slow one: complete nothing rather than wait or complain
  } finally {
    corral.close();
  }
}

async function valuesOf(completion: Completion | undefined, connection: ConnectOptions): Promise<Candidate[] | typeof FILES | typeof DIRS> {
  if (completion === undefined) return [];
  if (completion === "files") return FILES;
  if (completion === "dirs") return DIRS;
  if (completion === "commands") return Object.entries(COMMANDS).map(([word, spec]) => ({ word, description: spec.summary }));
  if (completion === "programs" || completion === "tasks") {
    return (await daemonNames(completion, connection)).map((word) => ({ word, description: completion === "programs" ? "program" : "task" }));
  }
  return completion.map((word) => ({ word, description: "" }));
}

function optionCandidates(spec: CommandSpec | undefined): Candidate[] {
  const options: [string, OptionSpec][] = [...Object.entries(spec?.options ?? {})];
  if (!spec?.offline) options.push(...Object.entries(GLOBAL_OPTIONS));
  return options.map(([name, option]) => ({ word: `--${name}`, description: option.description }));
}

/** The candidates for the last of `words` (the words after "corral", the last being typed). */
export async function candidates(words: string[], connection: ConnectOptions): Promise<Candidate[] | typeof FILES | typeof DIRS> {
  const current = words.at(-1) ?? "";
  const position = locate(words.slice(0, -1));
  if (position.valueFor) return valuesOf(position.valueFor.complete, connection);
  if (position.positionals === Number.POSITIVE_INFINITY) return [];
  if (current.startsWith("-")) return optionCandidates(position.spec);
  const spec = position.spec;
  if (spec === undefined) return valuesOf("commands", connection);
  if (spec.subcommands && position.positionals === 0) {
    return Object.entries(spec.subcommands).map(([word, sub]) => ({ word, description: sub.summary }));
  }
  const list = spec.positionals ?? [];
  const completion = list[position.positionals] ?? (spec.repeat ? list.at(-1) : undefined);
  return valuesOf(completion, connection);
}

/** `corral __complete WORDS...`: one candidate a line, "word<TAB>description"; or :files / :dirs. */
export async function complete(words: string[], connection: ConnectOptions): Promise<number> {
  const current = words.at(-1) ?? "";
  try {
    const found = await candidates(words, connection);
    if (found === FILES || found === DIRS) process.stdout.write(`${found}\n`);
    else {
      const matching = found.filter((c) => c.word.startsWith(current));
      process.stdout.write(matching.map((c) => `${c.word}\t${c.description.replace(/\s+/g, " ")}\n`).join(""));
    }
  } catch {
    // A completion that fails offers nothing; the shell falls back to its default.
  }
  return 0;
}

const BASH = `# bash completion for corral: source <(corral completion bash)
_corral() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out
  out=$(corral __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  local IFS=$'\\n'
  case "$out" in
    :files*) COMPREPLY=($(compgen -f -- "$cur")) ;;
    :dirs*) COMPREPLY=($(compgen -d -- "$cur")) ;;
    *) COMPREPLY=($(printf '%s\\n' "$out" | cut -f1)) ;;
  esac
}
complete -o default -F _corral corral
`;

const ZSH = `#compdef corral
# zsh completion for corral: source <(corral completion zsh)   (after compinit)
_corral() {
  local -a lines candidates
  local line
  lines=("\${(@f)$(corral __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  case "\${lines[1]}" in
    :files) _files; return ;;
    :dirs) _files -/; return ;;
  esac
  for line in $lines; do
    [[ -z $line ]] && continue
    candidates+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
  done
  _describe corral candidates
}
compdef _corral corral
`;

const FISH = `# fish completion for corral: corral completion fish > ~/.config/fish/completions/corral.fish
function __corral_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    set -l out (corral __complete $words 2>/dev/null)
    switch "$out[1]"
        case ':files'
            __fish_complete_path (commandline -ct)
        case ':dirs'
            __fish_complete_directories (commandline -ct)
        case '*'
            printf '%s\\n' $out
    end
end
complete -c corral -k -f -a '(__corral_complete)'
`;

const SCRIPTS: Record<(typeof SHELLS)[number], string> = { bash: BASH, zsh: ZSH, fish: FISH };

/** `corral completion SHELL`. */
export function completionScript(args: string[]): number {
  const shell = args[0];
  if (args.length !== 1 || shell === undefined || !Object.hasOwn(SCRIPTS, shell)) {
    throw new UsageError(`name one shell: ${SHELLS.join(", ")}`, "completion");
  }
  process.stdout.write(SCRIPTS[shell as keyof typeof SCRIPTS]);
  return 0;
}
