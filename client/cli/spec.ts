// The one definition of the `corral` command line: every command, its options (with their
// descriptions and what their values complete to) and its arguments. Parsing (args.ts), help
// (usage.ts), shell completion (complete.ts) and "did you mean" (suggest.ts) all read it.
// Pure data, importing only the import-free table of `corral server`'s options (the daemon parses
// the same one), so `corral --help` and completion load nothing else.
import { SERVER_DETAILS, SERVER_OPTIONS } from "../../server/options.js";

/** What a word completes to: program names (from the daemon), task names, files, or fixed words. */
export type Completion = "programs" | "tasks" | "files" | "dirs" | "commands" | readonly string[];

export interface OptionSpec {
  readonly type: "boolean" | "string";
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in help ("DURATION", "k=v"); string options only. */
  readonly value?: string;
  readonly description: string;
  readonly complete?: Completion;
}

export interface CommandSpec {
  readonly summary: string;
  /** Positional arguments as help shows them ("NAME...", "-- CMD ARGS..."). */
  readonly args?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Completion of positional argument i (the last entry repeats when `repeat`). */
  readonly positionals?: readonly Completion[];
  readonly repeat?: boolean;
  /** Subcommands (corral task ...), each with its own options. */
  readonly subcommands?: Readonly<Record<string, CommandSpec>>;
  /** Free text after the options in `help COMMAND`. */
  readonly details?: string;
  /** Talks to no daemon: no connection options in its help. */
  readonly offline?: boolean;
}

const json = { json: { type: "boolean", description: "print JSON: an array for a list, one object per line for a stream (shapes in the README)" } } as const;
const timeout = (what: string) => ({ timeout: { type: "string", value: "DURATION", description: what } }) as const;
const label = {
  label: { type: "string", multiple: true, value: "k=v", description: "select the programs with this label (repeatable: all must match)" },
} as const;
const token = { token: { type: "string", value: "TOKEN", description: "the task's lock token while it is locked (default: $CORRAL_TASK_TOKEN)" } } as const;

export const SIGNALS = ["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP", "TSTP", "WINCH"] as const;
export const SHELLS = ["bash", "zsh", "fish"] as const;
export const TOP_SORT_KEYS = ["name", "cpu", "mem"] as const;

export const COMMANDS = {
  server: {
    summary: "run the daemon in the foreground",
    offline: true,
    options: SERVER_OPTIONS,
    details: SERVER_DETAILS,
  },
  status: {
    summary: "show programs: state, pid, uptime, restarts, reason; exit 3 if one is not RUNNING",
    args: "[NAME...]",
    positionals: ["programs"],
    repeat: true,
    options: { ...label, ...json },
  },
  start: {
    summary: "start programs (waits until RUNNING unless --no-wait; --ready: until the readiness probe passes)",
    args: "NAME...|--all",
    positionals: ["programs"],
    repeat: true,
    options: {
      all: { type: "boolean", description: "every program" },
      ...label,
      ready: { type: "boolean", description: "wait until the readiness probe passes (RUNNING when there is none)" },
      "no-wait": { type: "boolean", description: "return once the start is under way" },
      ...timeout("how long to wait (default: the daemon's)"),
      ...json,
    },
  },
  stop: {
    summary: "stop programs: stop signal, stop_timeout, SIGKILL of the whole group; exit 3 if none was running",
    args: "NAME...|--all",
    positionals: ["programs"],
    repeat: true,
    options: {
      all: { type: "boolean", description: "every program (dependents first)" },
      ...label,
      sequential: { type: "boolean", description: "one program at a time within a dependency level (QMI's order)" },
      "no-wait": { type: "boolean", description: "return once the stop signal is sent" },
      ...timeout("how long to wait (default: the daemon's)"),
      ...json,
    },
  },
  restart: {
    summary: "stop (if running) and start a program",
    args: "NAME",
    positionals: ["programs"],
    options: {
      "no-wait": { type: "boolean", description: "return once the start is under way" },
      ...timeout("how long to wait (default: the daemon's)"),
      ...json,
    },
  },
  signal: {
    summary: "send a signal to a program's current run (--group: its whole process group)",
    args: "NAME SIG",
    positionals: ["programs", SIGNALS],
    options: { group: { type: "boolean", description: "signal the run's whole process group" }, ...json },
  },
  logs: {
    summary: "every program's output as it is written, each line prefixed by program and stream; NAME: one program's last lines",
    args: "[NAME]",
    positionals: ["programs"],
    options: {
      follow: { type: "boolean", short: "f", description: "keep printing new output until Ctrl-C (the default without NAME)" },
      tail: {
        type: "string",
        short: "n",
        value: "N",
        description: "start with the last N lines of each stream (default 20; without NAME 10 of each program's)",
      },
      since: { type: "string", value: "DURATION", description: "only output written in the last DURATION (e.g. 10m)" },
      stdout: { type: "boolean", description: "only the stdout stream" },
      stderr: { type: "boolean", description: "only the stderr stream" },
      stream: {
        type: "string",
        multiple: true,
        value: "NAME",
        description: "only these streams, by name: stdout, stderr, a redirect_output label or a custom stream (reading without -f takes one)",
      },
      prefix: { type: "boolean", description: "start each line of NAME's output with its stream's name, [label]" },
      ...json,
    },
    details: [
      "Without --stdout/--stderr both streams are shown. Lines of NAME's stderr go to stderr unless",
      "--stderr picked it; without NAME every line goes to stdout as `PROGRAM STREAM | line`.",
      "--json: one object per line: {program, stream, offset, time, line}; offset is the line's",
      "logical byte offset in its stream (stable across rotation: ReadLogs reads from it).",
    ].join("\n"),
  },
  events: {
    summary: "print journaled events after SEQ; --follow keeps streaming",
    options: {
      after: { type: "string", value: "SEQ", description: "only events after this sequence number" },
      follow: { type: "boolean", short: "f", description: "keep streaming new events until Ctrl-C" },
      "all-hosts": { type: "boolean", description: "with --config: every host's journal, each line tagged with its host" },
      ...json,
    },
  },
  info: { summary: "describe the daemon", options: { ...json } },
  shutdown: {
    summary: "stop every program, then the daemon (--keep-processes: leave them for the next daemon)",
    options: {
      "no-wait": { type: "boolean", description: "return once the daemon has accepted the order" },
      ...timeout("how long to wait for the daemon to exit (default 60s)"),
      "keep-processes": { type: "boolean", description: "leave the programs running for the next daemon to adopt" },
      ...json,
    },
  },
  send: {
    summary: "write TEXT and a newline to a program's stdin (stdin: true); --close ends its stdin",
    args: "NAME [TEXT]",
    positionals: ["programs"],
    options: {
      "no-newline": { type: "boolean", short: "n", description: "do not add a newline" },
      close: { type: "boolean", description: "close the program's stdin (after TEXT, if given)" },
      ...json,
    },
  },
  deps: { summary: "show the depends_on graph: each program with what it needs, and the condition", options: { ...json } },
  apply: {
    summary: "apply a config's programs: shows added/changed/removed; restarts only programs whose command, cwd, env, stdin or probes changed",
    args: "FILE|-",
    positionals: ["files"],
    options: {
      "dry-run": { type: "boolean", description: "show the diff, change nothing" },
      text: { type: "boolean", description: "send the file's text rather than its path (the daemon cannot read it)" },
      "allow-empty": { type: "boolean", description: "accept a config with no programs (it removes every program)" },
      ...json,
    },
  },
  check: {
    summary: "validate config files offline (no daemon): every problem as file:line:col, dependencies included; exit 2 if any",
    args: "FILE...",
    positionals: ["files"],
    repeat: true,
    offline: true,
    options: { quiet: { type: "boolean", short: "q", description: "print nothing for a valid file" }, ...json },
  },
  init: {
    summary: "write the built-in example config to FILE (default corral.yaml; - prints it); never overwrites without --force",
    args: "[FILE|-]",
    positionals: ["files"],
    offline: true,
    options: { force: { type: "boolean", short: "f", description: "overwrite FILE if it exists" } },
  },
  reload: {
    summary: "re-read the daemon's own config file and apply it (like apply)",
    options: { "dry-run": { type: "boolean", description: "show the diff, change nothing" }, ...json },
  },
  create: {
    summary: "add an ad-hoc program (the daemon needs server.allow_adhoc: true) and start it",
    args: "NAME -- CMD ARGS...",
    options: {
      "no-start": { type: "boolean", description: "create it stopped" },
      cwd: { type: "string", value: "DIR", description: "working directory (made absolute)", complete: "dirs" },
      env: { type: "string", multiple: true, value: "K=V", description: "an environment variable (repeatable)" },
      ...label,
      autorestart: { type: "string", value: "POLICY", description: "never, on-failure or always", complete: ["never", "on-failure", "always"] },
      "stop-timeout": { type: "string", value: "DURATION", description: "time between the stop signal and SIGKILL" },
      stdin: { type: "boolean", description: "give it a stdin pipe (corral send)" },
      description: { type: "string", value: "TEXT", description: "a line describing it" },
      ...json,
    },
  },
  delete: { summary: "stop an ad-hoc program, then remove it", args: "NAME...", positionals: ["programs"], repeat: true, options: { ...json } },
  stats: {
    summary: "CPU %, memory, threads, open fds and uptime of programs or pids (--children: the whole tree)",
    args: "NAME|PID...",
    positionals: ["programs"],
    repeat: true,
    options: {
      children: { type: "boolean", description: "include the whole process tree" },
      watch: { type: "boolean", description: "keep sampling until Ctrl-C" },
      interval: { type: "string", value: "DURATION", description: "sampling interval (default 500ms; 1s with --watch)" },
      ...json,
    },
  },
  top: {
    summary: "live CPU and memory of every program's process tree, like top; q quits; one snapshot if not a terminal",
    options: {
      interval: { type: "string", value: "DURATION", description: "time between frames (default 2s)" },
      once: { type: "boolean", description: "print one frame and exit" },
      sort: { type: "string", value: "KEY", description: "row order: name (default), cpu or mem (highest first)", complete: TOP_SORT_KEYS },
      ...json,
    },
  },
  ps: {
    summary: "find processes whose command line matches every ITEM (substring, case-insensitive by default)",
    args: "ITEM...",
    options: {
      exact: { type: "boolean", description: "ITEMs are whole arguments, not substrings" },
      "case-sensitive": { type: "boolean", description: "match case" },
      ...json,
    },
  },
  zombies: { summary: "list zombie processes, and whether the daemon is their parent", options: { ...json } },
  run: {
    summary: "run a command under inactivity/total timeouts; streams output, exits with its code (124 on timeout)",
    args: "-- CMD ARGS...",
    options: {
      inactivity: { type: "string", value: "DURATION", description: "kill the command after this long without progress" },
      ...timeout("kill the command after this long in all"),
      progress: { type: "string", value: "REGEX", description: "an output line matching this is progress" },
      "kill-signal": { type: "string", value: "SIG", description: "the first signal of a kill (default SIGINT)", complete: SIGNALS },
      grace: { type: "string", value: "DURATION", description: "time between the kill signal and SIGKILL" },
      cwd: { type: "string", value: "DIR", description: "working directory (default: the current one)", complete: "dirs" },
      ...json,
    },
  },
  task: {
    summary: "background tasks: create, start, stop, join, settings, locks, methods, signals",
    args: "SUBCOMMAND ...",
    options: {},
    subcommands: {
      types: { summary: "task types with their signals and methods", options: { ...json } },
      create: {
        summary: "create a task of a type",
        args: "NAME TYPE",
        options: {
          args: { type: "string", value: "JSON", description: "the task's arguments" },
          settings: { type: "string", value: "JSON", description: "its first settings" },
          start: { type: "boolean", description: "start it at once" },
          restore: { type: "boolean", description: "the next daemon re-creates it with its last settings, started if it ran" },
          ...json,
        },
      },
      start: { summary: "start a task", args: "NAME", positionals: ["tasks"], options: { ...token, ...json } },
      stop: { summary: "ask a task to stop", args: "NAME", positionals: ["tasks"], options: { ...token, ...json } },
      rm: { summary: "stop (if running), join and remove a task", args: "NAME", positionals: ["tasks"], options: { ...token, ...json } },
      join: {
        summary: "wait for a task to end; exit 1 when it failed",
        args: "NAME",
        positionals: ["tasks"],
        options: { ...token, ...timeout("how long to wait"), ...json },
      },
      ls: { summary: "every task: type, state, lock, status", options: { ...json } },
      status: { summary: "the task's status (JSON)", args: "NAME", positionals: ["tasks"], options: { ...json } },
      settings: {
        summary: "applied settings; --set stores a pending value",
        args: "NAME",
        positionals: ["tasks"],
        options: {
          ...token,
          set: { type: "string", value: "JSON", description: "store pending settings (the task takes them when it is ready)" },
          pending: { type: "boolean", description: "show the pending settings instead" },
          ...json,
        },
      },
      lock: {
        summary: "lock a task: prints a token; again with --token renews",
        args: "NAME",
        positionals: ["tasks"],
        options: {
          ...token,
          ...timeout("how long to wait for the lock"),
          lease: { type: "string", value: "DURATION", description: "the lock expires unless renewed within this" },
          ...json,
        },
      },
      unlock: {
        summary: "unlock a task",
        args: "NAME",
        positionals: ["tasks"],
        options: { ...token, force: { type: "boolean", description: "unlock without the token" }, ...json },
      },
      call: { summary: "call a method the task's type declares", args: "NAME METHOD [ARGS_JSON]", positionals: ["tasks"], options: { ...token, ...json } },
      watch: {
        summary: "stream signals until Ctrl-C",
        args: "[TASK...]",
        positionals: ["tasks"],
        repeat: true,
        options: {
          signal: { type: "string", multiple: true, value: "NAME", description: "only signals of this name (repeatable)" },
          after: { type: "string", value: "SEQ", description: "replay signals after this sequence number first" },
          ...json,
        },
      },
    },
    details: [
      "JSON values are given as JSON text. Driving commands (start, stop, join, rm, settings --set,",
      "call) take --token T, or $CORRAL_TASK_TOKEN, while the task is locked.",
      "",
      "example:",
      "  corral task create c1 counter --args '{\"interval_ms\": 500}' --start --restore",
      "  corral task settings c1 --set '{\"step\": 5}'",
      "  corral task watch c1",
    ].join("\n"),
  },
  completion: {
    summary: "print a shell completion script: eval it, e.g. `source <(corral completion bash)`",
    args: "bash|zsh|fish",
    positionals: [SHELLS],
    offline: true,
    options: {},
    details: [
      "bash: add `source <(corral completion bash)` to ~/.bashrc",
      "zsh:  add `source <(corral completion zsh)` to ~/.zshrc (after compinit)",
      "fish: corral completion fish > ~/.config/fish/completions/corral.fish",
      "Commands, options and their values complete offline; program names come from the daemon",
      "when it answers within half a second.",
    ].join("\n"),
  },
  help: { summary: "show help for a command", args: "[COMMAND]", positionals: ["commands"], offline: true, options: {} },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** Options valid before or after any command (connection and multi-host); parsed by connection.ts and main.ts. */
export const GLOBAL_OPTIONS = {
  address: {
    type: "string",
    value: "ADDR",
    description: "daemon address: a socket path, unix:PATH or host:port (default: $CORRAL_ADDRESS, else $CORRAL_HOME/corral.sock, else ~/.corral/corral.sock)",
    complete: "files",
  },
  tls: { type: "boolean", description: "connect over TLS (implied by any --tls-* option; $CORRAL_TLS=1)" },
  "tls-ca": { type: "string", value: "FILE", description: "CA that signed the daemon's certificate (PEM; $CORRAL_TLS_CA)", complete: "files" },
  "tls-cert": { type: "string", value: "FILE", description: "client certificate for mTLS (PEM; $CORRAL_TLS_CERT), with --tls-key", complete: "files" },
  "tls-key": { type: "string", value: "FILE", description: "the client certificate's key (PEM; $CORRAL_TLS_KEY)", complete: "files" },
  "tls-server-name": { type: "string", value: "NAME", description: "name to check the daemon's certificate against ($CORRAL_TLS_SERVER_NAME)" },
  "token-file": { type: "string", value: "FILE", description: "bearer token to present, first line of FILE ($CORRAL_TOKEN_FILE)", complete: "files" },
  config: {
    type: "string",
    value: "FILE",
    description:
      "several hosts: the config with the hosts map (default: $CORRAL_CONFIG); status, start, stop, restart, signal, logs act on each program's host",
    complete: "files",
  },
  host: { type: "string", value: "NAME", description: "with --config: only that host" },
  local: { type: "boolean", description: "with --config: only this machine's host ($CORRAL_HOST_NAME, else the host whose address is local)" },
  "host-timeout": { type: "string", value: "DURATION", description: "with --config: a host that does not answer within this is unreachable (5s)" },
  help: { type: "boolean", short: "h", description: "show help (`corral COMMAND --help` is `corral help COMMAND`)" },
  version: { type: "boolean", short: "V", description: "print the version" },
} as const satisfies Record<string, OptionSpec>;

export function isCommand(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}

/** The spec of a command or a subcommand ("task ls"). */
export function specOf(command: string, sub?: string): CommandSpec | undefined {
  if (!isCommand(command)) return undefined;
  const spec: CommandSpec = COMMANDS[command];
  return sub === undefined ? spec : spec.subcommands?.[sub];
}
