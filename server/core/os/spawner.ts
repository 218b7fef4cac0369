// A small long-lived process that forks the daemon's runs. Node's spawn forks the whole daemon
// and waits for the exec on its main thread: 1.6 ms per spawn at ~90 MB resident, and growing
// with the daemon's size (README "Performance"). A perl process of ~5 MB forks in a fraction of
// that, on the other core, while the daemon goes on. The child it forks makes its own session,
// opens its log files (O_APPEND), joins the run's cgroup (so nothing it forks is born outside),
// and execs the command: no /bin/sh in between. The spawner tells the daemon the pid once the
// exec succeeded (a close-on-exec pipe says whether it did) and each exit status, from a pidfd
// per child (no SIGCHLD handler, so no lost wake-up; pidfd_open is 434 on every architecture).
//
// Lifetimes: the spawner reads its stdin; when the daemon dies, even by kill -9, it reads end of
// file and exits, and its children live on as init's, adopted by the next daemon (adopt.ts) as
// they were when the daemon forked them itself. A spawner that dies leaves its children to init
// too: their runs are adopted on the spot (run-start.ts), their exits seen by adopted-exit-watcher.ts,
// and the next spawn starts a new spawner. Where there is no perl, no pidfd (Linux < 5.3) or the
// run needs what only Node's spawn gives (a stdin pipe, custom streams, another user), the daemon
// forks with node:child_process as before (spawn-run.ts); CORRAL_SPAWNER=off always does.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import os from "node:os";
import { getSystemErrorName } from "node:util";
import { failpointValue } from "../failpoints.js";
import { signalName } from "./signals.js";

/** One request a line: "s <id> <hex of NUL-joined fields>"; see SCRIPT for the fields. */
const SCRIPT = String.raw`
use strict; use POSIX ();
$| = 1;
# A daemon killed with kill -9 right after asking for a stop signal: the exits that signal
# causes are not written to a reader (EPIPE, not SIGPIPE's death) until the request is read.
$SIG{PIPE} = "IGNORE";
my $die = $ARGV[0] // "";
my $pidfd = syscall(434, $$ + 0, 0);
if ($pidfd < 0) { print "nopidfd ", $! + 0, "\n"; exit 0; }
POSIX::close($pidfd);
print "ready\n";
my (%byFd, %execing); my $in = ""; my $spawns = 0;
my $rin = ""; vec($rin, 0, 1) = 1;
sub fail { my ($w, $step) = @_; syswrite($w, "$step " . ($! + 0)); POSIX::_exit(127); }
sub child {
  my ($w, $cwd, $out, $err, $procs, $nEnv, @rest) = @_;
  my @env = splice(@rest, 0, $nEnv);
  # An ignored signal stays ignored across exec: the run gets SIGPIPE as Node's spawn gives it.
  $SIG{PIPE} = "DEFAULT";
  POSIX::setsid() or fail($w, "setsid");
  open(my $null, "<", "/dev/null") or fail($w, "/dev/null");
  POSIX::dup2(fileno($null), 0) // fail($w, "/dev/null");
  for ([1, $out], [2, $err]) {
    my ($fd, $path) = @$_;
    sysopen(my $fh, $path, POSIX::O_WRONLY() | POSIX::O_APPEND() | POSIX::O_CREAT(), 0640) or fail($w, "open $path");
    POSIX::dup2(fileno($fh), $fd) // fail($w, "open $path");
  }
  if ($cwd ne "") { chdir($cwd) or fail($w, "chdir"); }
  if ($procs ne "") {
    open(my $p, ">", $procs) or fail($w, "cgroup");
    print $p "$$\n" or fail($w, "cgroup");
    close($p) or fail($w, "cgroup");
  }
  for (@env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v; }
  exec { $rest[0] } @rest or fail($w, "exec");
}
sub spawnOne {
  my ($id, $hex) = @_;
  my @fields = split /\0/, pack("H*", $hex), -1;
  pipe(my $r, my $w) or return print "e $id pipe ", $! + 0, "\n";
  my $pid = fork();
  if (!defined $pid) { my $errno = $! + 0; close($r); close($w); return print "e $id fork $errno\n"; }
  if ($pid == 0) { close($r); child($w, @fields); }
  close($w);
  # The exec's outcome is read when it comes (the loop below): the next fork need not wait for it.
  $execing{fileno($r)} = [$id, $pid, $r];
  vec($rin, fileno($r), 1) = 1;
}
sub execDone {
  my ($fd) = @_;
  my ($id, $pid, $r) = @{delete $execing{$fd}};
  vec($rin, $fd, 1) = 0;
  my $why = ""; while (sysread($r, my $chunk, 512)) { $why .= $chunk; }
  close($r);
  if ($why ne "") { $why =~ tr/\n/ /; waitpid($pid, 0); return print "e $id $why\n"; }
  my $pidfd = syscall(434, $pid + 0, 0);
  if ($pidfd < 0) { return print "e $id pidfd ", $! + 0, "\n"; }
  $byFd{$pidfd} = $pid;
  vec($rin, $pidfd, 1) = 1;
  print "p $id $pid\n";
  exit 1 if $die eq "after-spawn" && ++$spawns == 1;
}
# The fds select waits on, kept as they come and go, and the ready ones found by a scan in C
# (unpack, index): a loop over every child per wake-up would make a stop-all quadratic.
while (1) {
  my $n = select(my $rout = $rin, undef, undef, undef);
  if ($n < 0) { next if $!{EINTR}; die "select: $!"; }
  my $bits = unpack("b*", $rout);
  for (my $fd = index($bits, "1", 1); $fd >= 0; $fd = index($bits, "1", $fd + 1)) {
    if ($execing{$fd}) { execDone($fd); next; }
    my $pid = $byFd{$fd} // next;
    next if waitpid($pid, POSIX::WNOHANG()) != $pid;
    print "x $pid $?\n";
    POSIX::close($fd);
    delete $byFd{$fd};
    vec($rin, $fd, 1) = 0;
  }
  next unless vec($rout, 0, 1);
  my $got = sysread(STDIN, $in, 65536, length $in);
  if (!$got) { next if !defined $got && $!{EINTR}; exit 0; }
  while ((my $at = index($in, "\n")) >= 0) {
    my $line = substr($in, 0, $at + 1, ""); chomp $line;
    my ($op, $id, $hex) = split / /, $line, 3;
    spawnOne($id, $hex // "") if $op eq "s";
    # "k <pgid> <signal number>": the daemon's stop signal to a run's group (Spawner.signalGroup);
    # never to group 0 or 1 (kill -0 is the spawner's own group, kill -1 every process).
    kill($hex + 0, -$id) if $op eq "k" && $id =~ /^\d+$/ && $id > 1;
  }
}
`;

/** What to fork: every field a string, as the child's exec gets it. */
export interface SpawnRequest {
  command: string;
  args: string[];
  /**
   * Set over the spawner's own environment, which is the daemon's as it started the spawner
   * (nothing in the daemon changes process.env): the request carries only what a run adds.
   */
  envAdded: Record<string, string>;
  cwd?: string;
  stdoutPath: string;
  stderrPath: string;
  /** The run's cgroup.procs: the child moves itself in before the exec. */
  cgroupProcs?: string;
}

/**
 * A run forked by the spawner, shaped like the part of ChildProcess the daemon uses: `pid` once
 * the exec succeeded ('spawn'), else 'error' (code: the errno's name); 'exit' (code, signal) from
 * the spawner's waitpid; 'orphaned' when the spawner died first (the exit status is then lost;
 * the process lives on as init's child).
 */
export class SpawnedChild extends EventEmitter {
  pid: number | undefined;
  readonly stdin = null;

  constructor(private readonly spawner: Spawner) {
    super();
  }

  /**
   * Has the spawner send signal to the child's process group (the group id is its pid: the child
   * made its own session): false when the spawner cannot (it died; send it yourself). A signal
   * wakes its target on the sender's core, which then runs the target's exit: ~75 µs of kernel
   * time per process here, a sixth of a stop-all of 500 when the daemon sent them all itself.
   * Sent in the order asked, before any later request; whether the group is still the run's is
   * the caller's to know (os/group-stop.ts), as for a kill of its own.
   */
  signalGroup(signal: NodeJS.Signals): boolean {
    return this.pid !== undefined && this.spawner.signalGroup(this.pid, signal);
  }
}

/** An errno name and a step, as the child wrote them ("open /x/y.log 28"), into an Error like Node's spawn errors. */
function spawnError(request: SpawnRequest, text: string): NodeJS.ErrnoException {
  const match = /^(.*) (\d+)$/.exec(text);
  const step = match ? match[1] : text;
  const code = match ? getSystemErrorName(-Number(match[2])) : "EUNKNOWN";
  const error: NodeJS.ErrnoException = new Error(`spawn ${request.command} (${step}): ${code}`);
  error.code = code;
  error.syscall = step.startsWith("exec") ? "spawn" : step;
  error.path = request.command;
  return error;
}

/**
 * Bounds: a program has at most one run being forked and one alive, so the requests waiting (and
 * the bytes queued on the spawner's stdin, one line of a few KB each), the live children here and
 * the pipes and pidfds in the spawner all number at most the programs; an answer not yet ended by
 * its newline is one line.
 */
class Spawner {
  private readonly waiting = new Map<number, { child: SpawnedChild; request: SpawnRequest }>();
  private readonly live = new Map<number, SpawnedChild>();
  private nextId = 1;
  private rest = "";
  /** undefined while perl starts; true once it said "ready"; false when it cannot be used. */
  ready: boolean | undefined;
  dead = false;

  constructor(private readonly process: ChildProcessWithoutNullStreams) {
    process.stdout.setEncoding("latin1");
    process.stdout.on("data", (text: string) => this.answer(text));
    process.once("error", () => this.die());
    process.once("exit", () => this.die());
    process.stdin.on("error", () => undefined); // EPIPE after it died: said by "exit"
    process.stderr.resume();
    this.hold();
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Keeps the daemon alive only while a request is pending or a child lives (as Node's own children do). */
  private hold(): void {
    const busy = this.waiting.size > 0 || this.live.size > 0 || this.ready === undefined;
    const handles = [this.process, this.process.stdout, this.process.stdin, this.process.stderr] as unknown as { ref?: () => void; unref?: () => void }[];
    for (const handle of handles) (busy ? handle.ref : handle.unref)?.call(handle);
  }

  spawn(request: SpawnRequest): SpawnedChild {
    const id = this.nextId++;
    const child = new SpawnedChild(this);
    const env = Object.entries(request.envAdded).map(([name, value]) => `${name}=${value}`);
    const fields = [
      request.cwd ?? "",
      request.stdoutPath,
      request.stderrPath,
      request.cgroupProcs ?? "",
      String(env.length),
      ...env,
      request.command,
      ...request.args,
    ];
    this.waiting.set(id, { child, request });
    this.hold();
    this.process.stdin.write(`s ${id} ${Buffer.from(fields.join("\0")).toString("hex")}\n`);
    return child;
  }

  /** kill(-pgid, signal) from the spawner (SpawnedChild.signalGroup); false once it is dead. */
  signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
    const number = os.constants.signals[signal];
    if (this.dead || !this.process.stdin.writable || number === undefined || !(pgid > 1)) return false;
    // Written now (a pipe write, not queued while the pipe has room): the signal is on its way
    // before the caller's next step, as a kill of its own would be sent.
    this.process.stdin.write(`k ${pgid} ${number}\n`);
    return true;
  }

  private answer(text: string): void {
    const lines = (this.rest + text).split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) {
      const [op, first, ...more] = line.split(" ");
      if (op === "ready") this.ready = true;
      else if (op === "nopidfd") this.ready = false;
      else if (op === "p" || op === "e") {
        const pending = this.waiting.get(Number(first));
        if (!pending) continue;
        this.waiting.delete(Number(first));
        if (op === "p") {
          pending.child.pid = Number(more[0]);
          this.live.set(pending.child.pid, pending.child);
          pending.child.emit("spawn");
        } else pending.child.emit("error", spawnError(pending.request, more.join(" ")));
      } else if (op === "x") {
        const child = this.live.get(Number(first));
        if (!child) continue;
        this.live.delete(Number(first));
        const status = Number(more[0]);
        const signal = status & 0x7f;
        if (signal === 0) child.emit("exit", (status >> 8) & 0xff, null);
        else child.emit("exit", null, signalName(signal));
      }
    }
    this.hold();
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.ready === undefined) this.ready = false;
    this.process.stdin.destroy();
    // Whether a pending request forked is not known: its caller looks for the run by its marker.
    const error = Object.assign(new Error("the spawner (perl) died while forking this run"), { code: "ESPAWNER" });
    for (const { child } of this.waiting.values()) child.emit("error", error);
    for (const child of this.live.values()) child.emit("orphaned");
    this.waiting.clear();
    this.live.clear();
    this.hold();
  }
}

let current: Spawner | undefined;
/** perl is not there (or cannot be used here): Node's spawn from now on. */
let unavailable = process.platform !== "linux" || process.env.CORRAL_SPAWNER === "off";

/**
 * Starts the spawner now (the daemon does at start-up, so that its first runs already use it).
 * Later calls start a new one only if the last one died.
 */
export function startSpawner(): void {
  if (unavailable || (current && !current.dead)) return;
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn("perl", ["-e", SCRIPT, failpointValue("spawner-exit") ?? ""], { stdio: ["pipe", "pipe", "pipe"] });
  } catch {
    unavailable = true;
    return;
  }
  const spawner = new Spawner(child);
  child.once("error", () => (unavailable = true)); // no perl on PATH
  child.stdout.once("data", (text: string) => {
    if (text.startsWith("nopidfd")) unavailable = true;
  });
  current = spawner;
}

/**
 * The spawner when it is up and ready (undefined: fork with Node; one is started for the next
 * time if none runs). Never waits: a run forked while perl is still starting uses Node's spawn.
 */
export function readySpawner(): { spawn(request: SpawnRequest): SpawnedChild; readonly pid: number | undefined } | undefined {
  if (unavailable) return undefined;
  if (!current || current.dead) {
    startSpawner();
    return undefined;
  }
  return current.ready === true ? current : undefined;
}
