// Help texts of the `corral` command and the error type for bad command lines (exit code 2).
// Kept free of imports so `corral --help` and usage errors load nothing else.

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

const COMMAND_USAGE: Record<string, string> = {
  server: "corral server [--config FILE] [--home DIR] [--listen ADDR] [--insecure]",
  status: "corral status [NAME...] [--label k=v]... [--json]",
  start: "corral start NAME...|--all [--label k=v]... [--ready] [--no-wait] [--timeout 30s]",
  stop: "corral stop NAME...|--all [--label k=v]... [--sequential] [--no-wait] [--timeout 30s]",
  restart: "corral restart NAME [--no-wait] [--timeout 30s]",
  signal: "corral signal NAME SIG [--group]",
  logs: "corral logs NAME [-f|--follow] [--tail N] [--stderr | --stream NAME...] [--prefix]",
  events: "corral events [--after SEQ] [--follow] [--json] [--all-hosts]",
  info: "corral info [--json]",
  shutdown: "corral shutdown [--no-wait] [--timeout 30s] [--keep-processes]",
  send: "corral send NAME [TEXT] [-n|--no-newline] [--close]",
  deps: "corral deps [--json]",
  apply: "corral apply FILE|- [--dry-run] [--text] [--allow-empty]",
  check: "corral check FILE... [-q|--quiet]",
  init: "corral init [FILE|-] [-f|--force]",
  reload: "corral reload [--dry-run]",
  create: "corral create NAME [--no-start] [--cwd DIR] [--env K=V]... [--label k=v]... [--autorestart POLICY] [--stop-timeout 10s] [--stdin] -- CMD ARGS...",
  delete: "corral delete NAME...",
  stats: "corral stats NAME|PID... [--children] [--watch] [--interval 1s] [--json]",
  top: "corral top [--interval 2s] [--once]",
  ps: "corral ps ITEM... [--exact] [--case-sensitive] [--json]",
  zombies: "corral zombies [--json]",
  run: "corral run [--inactivity 30s] [--timeout 10m] [--progress REGEX] [--kill-signal SIG] [--grace 5s] [--cwd DIR] -- CMD ARGS...",
  task: "corral task types|create|start|stop|join|ls|status|settings|lock|unlock|call|watch|rm ...",
  help: "corral help [COMMAND]",
};

const COMMAND_SUMMARY: Record<string, string> = {
  server: "run the daemon in the foreground",
  status: "show programs: state, pid, uptime, restarts, reason",
  start: "start programs (waits until RUNNING unless --no-wait; --ready: until the readiness probe passes)",
  stop: "stop programs: stop signal, stop_timeout, SIGKILL of the whole group",
  restart: "stop (if running) and start a program",
  signal: "send a signal to a program's current run (--group: its whole process group)",
  logs: "print the last lines of a program's output; -f follows it until Ctrl-C",
  events: "print journaled events after SEQ; --follow keeps streaming",
  info: "describe the daemon",
  shutdown: "stop every program, then the daemon (--keep-processes: leave them for the next daemon)",
  send: "write TEXT and a newline to a program's stdin (stdin: true); --close ends its stdin",
  deps: "show the depends_on graph: each program with what it needs, and the condition",
  apply: "apply a config's programs: shows added/changed/removed; restarts only programs whose command, cwd, env, stdin or probes changed",
  check: "validate config files offline (no daemon): every problem as file:line:col, dependencies included; exit 2 if any",
  init: "write the built-in example config to FILE (default corral.yaml; - prints it); never overwrites without --force",
  reload: "re-read the daemon's own config file and apply it (like apply)",
  create: "add an ad-hoc program (the daemon needs server.allow_adhoc: true) and start it",
  delete: "stop an ad-hoc program, then remove it",
  stats: "CPU %, memory, threads, open fds and uptime of programs or pids (--children: the whole tree)",
  top: "live CPU and memory of every program's process tree, like top; q quits; one snapshot if not a terminal",
  ps: "find processes whose command line matches every ITEM (substring, case-insensitive by default)",
  zombies: "list zombie processes, and whether the daemon is their parent",
  run: "run a command under inactivity/total timeouts; streams output, exits with its code (124 on timeout)",
  task: "background tasks: create, start, stop, join, settings, locks, methods, signals",
  help: "show help for a command",
};

/** Subcommands and options of commands with more than one form. */
const COMMAND_DETAILS: Record<string, string> = {
  task: [
    "subcommands (JSON values are given as JSON text):",
    "  types [--json]                                 task types with their signals and methods",
    "  create NAME TYPE [--args JSON] [--settings JSON] [--start]",
    "  start NAME | stop NAME | rm NAME               rm stops (if running), joins and removes",
    "  join NAME [--timeout 10s]                      waits; exits 1 when the task failed",
    "  ls [--json]                                    every task: type, state, lock, status",
    "  status NAME                                    the task's status (JSON)",
    "  settings NAME [--set JSON | --pending]         applied settings; --set stores a pending value",
    "  lock NAME [--timeout 5s] [--lease 30s]         prints a token; again with --token renews",
    "  unlock NAME --token T | --force",
    "  call NAME METHOD [ARGS_JSON]                   calls a method the type declares",
    "  watch [TASK...] [--signal NAME]... [--after SEQ] [--json]   streams signals until Ctrl-C",
    "",
    "driving commands (start, stop, join, rm, settings --set, call) take --token T,",
    "or $CORRAL_TASK_TOKEN, while the task is locked.",
    "",
    "example:",
    "  corral task create c1 counter --args '{\"interval_ms\": 500}' --start --restore",
    "    (--restore: the next daemon re-creates it with its last settings, started if it ran)",
    "  corral task settings c1 --set '{\"step\": 5}'",
    "  corral task watch c1",
  ].join("\n"),
};

export const COMMANDS = Object.keys(COMMAND_USAGE);

/** One line: how to call a command. */
export function commandUsage(command: string): string {
  return `usage: ${COMMAND_USAGE[command] ?? "corral [--address ADDR] COMMAND [ARGS]"}`;
}

/** The full help text for one command. */
export function commandHelp(command: string): string {
  const lines = [commandUsage(command), "", `  ${COMMAND_SUMMARY[command] ?? ""}`];
  if (COMMAND_DETAILS[command]) lines.push("", COMMAND_DETAILS[command]);
  if (command !== "server" && command !== "help") lines.push("", GLOBAL_OPTIONS);
  return `${lines.join("\n")}\n`;
}

const GLOBAL_OPTIONS = [
  "global options:",
  "  --address ADDR   daemon address: a socket path, unix:PATH or host:port",
  "                   (default: $CORRAL_ADDRESS, else $CORRAL_HOME/corral.sock, else ~/.corral/corral.sock)",
  "  --tls            connect over TLS (implied by any --tls-* option; $CORRAL_TLS=1)",
  "  --tls-ca FILE    CA that signed the daemon's certificate (PEM; $CORRAL_TLS_CA)",
  "  --tls-cert FILE  client certificate for mTLS (PEM; $CORRAL_TLS_CERT), with --tls-key FILE ($CORRAL_TLS_KEY)",
  "  --tls-server-name NAME  name to check the daemon's certificate against ($CORRAL_TLS_SERVER_NAME)",
  "  --token-file FILE  bearer token to present, first line of FILE ($CORRAL_TOKEN_FILE)",
  "  --config FILE    several hosts: the config with the hosts map (default: $CORRAL_CONFIG); status,",
  "                   start, stop, restart, signal, logs act on each program's host; events --all-hosts",
  "  --host NAME      with --config: only that host      --local   only this machine's host",
  "                   (this machine: $CORRAL_HOST_NAME, else the host whose address is local)",
  "  --host-timeout D with --config: a host that does not answer within D is unreachable (5s)",
].join("\n");

/** The overview printed by `corral help`. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.length));
  const lines = [
    "usage: corral [--address ADDR] COMMAND [ARGS]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.padEnd(width)}  ${COMMAND_SUMMARY[c]}`),
    "",
    GLOBAL_OPTIONS,
    "  --version        print the version",
    "",
    "Durations are written like 500ms, 10s, 2m. `corral help COMMAND` shows a command's options.",
  ];
  return `${lines.join("\n")}\n`;
}
