// One long-lived process that calls fallocate(2) for the daemon, so that a rotation's cut costs a
// line written to a pipe and a line read back (~0.1 ms) instead of spawning fallocate(1) (~3-8 ms,
// 30+ ms under load: README "Logs"). It also copies a rotation's head into its backup with
// copy_file_range(2), inside the kernel: a 10 MiB head costs ~4 ms of CPU there against 12-14 ms
// read into the daemon and written back out (the writer shares the machine's cores with both).
// Node has no binding for fallocate(2) or for copying a range; perl's `syscall` calls them by number, and perl is on every Debian (perl-base is Essential) and most other systems.
// Where perl is missing, or the architecture's syscall number is not known here (32-bit
// platforms split 64-bit offsets into two registers), or the helper dies, the caller falls back
// to fallocate(1) (log-fallocate.ts). The helper reads its stdin: when the daemon exits, even by
// kill -9, it reads end of file and exits too.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { failpointValue } from "../failpoints.js";

/** __NR_fallocate for 64-bit Linux architectures (their offsets fit one register each). */
const FALLOCATE_SYSCALL: Partial<Record<string, number>> = { x64: 285, arm64: 47, riscv64: 47, loong64: 47, ppc64: 309, s390x: 314 };

/** __NR_copy_file_range (64-bit Linux, as FALLOCATE_SYSCALL); where unknown, the caller copies through the daemon. */
const COPY_FILE_RANGE_SYSCALL: Partial<Record<string, number>> = { x64: 326, arm64: 285, riscv64: 285, loong64: 285, ppc64: 379, s390x: 375 };

/** __NR_sync_file_range where its arguments are (fd, offset, nbytes, flags); elsewhere the caller uses fdatasync. */
const SYNC_FILE_RANGE_SYSCALL: Partial<Record<string, number>> = { x64: 277, arm64: 84, riscv64: 84, loong64: 84 };
/** SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER: written out and waited for. */
const SYNC_FILE_RANGE_WRITE_AND_WAIT = 0x7;

/** The helper's system call numbers on this architecture (the bench's bare rotation uses the same), or undefined where it is not used. */
export function helperSyscalls(): { fallocate: number; sync: number; copy: number } | undefined {
  const fallocate = FALLOCATE_SYSCALL[process.arch];
  if (fallocate === undefined || process.platform !== "linux") return undefined;
  return { fallocate, sync: SYNC_FILE_RANGE_SYSCALL[process.arch] ?? 0, copy: COPY_FILE_RANGE_SYSCALL[process.arch] ?? 0 };
}

/** FALLOC_FL_* (linux/falloc.h). */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;

/** A request taking longer than this kills the helper (the call fails; the next ones use fallocate(1)). */
const REQUEST_TIMEOUT_MS = 60_000;
/** Requests waiting for the helper at most (one per file being cut at once: the drops of the total cap run in parallel). */
const MAX_QUEUED = 4096;

// One request a line: "f <mode> <offset> <length> <path in hex>" (fallocate),
// "s <offset> <nbytes> <flags> <path in hex>" (sync_file_range) or
// "c <offset> <length> 0 <source in hex> <target in hex>" (copy_file_range of [offset, +length)
// into a new target, created 0640 and never overwritten); one answer a line, in order: "ok" or
// "err <errno> <message>" (errno 0: the source ended first). The paths are hex so that no byte
// of them can end the line or split it.
// $die (the failpoint fallocate-helper-exit, for crash tests): "before:N" or "after:N" makes the
// helper exit at its Nth collapse (default 1), before or after the call, without answering;
// "copy:N" after its Nth copy, without answering.
const SCRIPT = `
use Fcntl qw(O_WRONLY O_CREAT O_EXCL);
$| = 1;
my ($fallocate, $sync, $copy, $die) = @ARGV;
my ($dieWhen, $dieAt) = split /:/, $die;
my ($collapses, $copies) = (0, 0);
sub copyRange {
  my ($at, $length, $hex) = @_;
  my ($from, $to) = map { pack("H*", $_) } split / /, $hex;
  return "err 38 Function not implemented" if !$copy;
  open(my $in, "<", $from) or return "err " . ($! + 0) . " $!";
  sysopen(my $out, $to, O_WRONLY | O_CREAT | O_EXCL, 0640) or return "err " . ($! + 0) . " $!";
  for (my $done = 0; $done < $length; ) {
    my $position = pack("q", $at + $done);
    my $n = syscall($copy + 0, fileno($in), $position, fileno($out), 0, $length - $done, 0);
    return "err " . ($! + 0) . " $!" if $n < 0;
    return "err 0 ended at " . ($at + $done) if $n == 0;
    $done += $n;
  }
  close($out) or return "err " . ($! + 0) . " $!";
  return "ok";
}
while (my $line = <STDIN>) {
  chomp $line;
  my ($op, $a, $b, $c, $hex) = split / /, $line, 5;
  if ($op eq "c") {
    my $answer = copyRange($a, $b, $hex);
    exit 1 if $dieWhen eq "copy" && ++$copies == ($dieAt || 1);
    print "$answer\n";
    next;
  }
  my $path = pack("H*", $hex);
  my $nr = $op eq "s" ? $sync : $fallocate;
  if (!$nr) { print "err 38 Function not implemented\n"; next; }
  my $fh;
  if (!open($fh, "+<", $path)) { print "err ", $! + 0, " $!\n"; next; }
  my $dying = $op eq "f" && $a == ${FALLOC_FL_COLLAPSE_RANGE} && ++$collapses == ($dieAt || 1);
  exit 1 if $dying && $dieWhen eq "before";
  my $r = syscall($nr + 0, fileno($fh), $a + 0, $b + 0, $c + 0);
  my ($errno, $text) = ($! + 0, "$!");
  exit 1 if $dying && $dieWhen eq "after";
  close($fh);
  print $r == 0 ? "ok\n" : "err $errno $text\n";
}
`;

export class HelperError extends Error {
  constructor(
    message: string,
    /** The kernel said no (EOPNOTSUPP, ENOSYS...): not a reason to stop using the helper. */
    readonly errno?: number,
  ) {
    super(message);
    this.name = "HelperError";
  }
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

class FallocateHelper {
  private readonly pending: Pending[] = [];
  private rest = "";
  dead = false;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (text: string) => this.answer(text));
    child.once("error", (error) => this.die(`the fallocate helper (perl): ${error.message}`));
    child.once("exit", (code, signal) => this.die(`the fallocate helper (perl) exited (${signal ?? `code ${code}`})`));
    child.stdin.on("error", () => undefined); // EPIPE after the helper died: said by "exit"
    child.stderr.resume();
    // An idle helper must not keep the daemon alive (it exits on its stdin's end of file); one
    // with calls pending does, until they are answered.
    this.hold(false);
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
  }

  private hold(on: boolean): void {
    const stdout = this.child.stdout as unknown as { ref?: () => void; unref?: () => void };
    if (on) {
      this.child.ref();
      stdout.ref?.();
    } else {
      this.child.unref();
      stdout.unref?.();
    }
  }

  /** Resolves once perl runs (false: it could not be started, e.g. no perl on PATH). */
  started(): Promise<boolean> {
    return new Promise((resolve) => {
      this.child.once("spawn", () => resolve(true));
      this.child.once("error", () => resolve(false));
    });
  }

  get full(): boolean {
    return this.pending.length >= MAX_QUEUED;
  }

  call(op: "f" | "s" | "c", args: [number, number, number], paths: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new HelperError("the fallocate helper (perl) is gone"));
      const timer = setTimeout(() => {
        this.die(`the fallocate helper (perl) did not answer within ${REQUEST_TIMEOUT_MS} ms`);
        this.child.kill("SIGKILL");
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      if (this.pending.length === 0) this.hold(true);
      this.pending.push({ resolve, reject, timer });
      this.child.stdin.write(`${op} ${args.join(" ")} ${paths.map((path) => Buffer.from(path).toString("hex")).join(" ")}\n`);
    });
  }

  private answer(text: string): void {
    const lines = (this.rest + text).split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) {
      const request = this.pending.shift();
      if (!request) continue;
      clearTimeout(request.timer);
      if (this.pending.length === 0) this.hold(false);
      if (line === "ok") request.resolve();
      else {
        const match = /^err (\d+) (.*)$/.exec(line);
        request.reject(new HelperError(match ? match[2] : line, match ? Number(match[1]) : undefined));
      }
    }
  }

  private die(why: string): void {
    if (this.dead) return;
    this.dead = true;
    // Whether these requests were done is not known: the caller decides (log-fallocate.ts repeats
    // a punch, which is harmless; log-rotation.ts looks for its marker before undoing a collapse).
    for (const request of this.pending.splice(0)) {
      clearTimeout(request.timer);
      request.reject(new HelperError(why));
    }
    this.child.stdin.destroy();
  }
}

let helper: Promise<FallocateHelper | undefined> | undefined;

function startHelper(): Promise<FallocateHelper | undefined> {
  const numbers = helperSyscalls();
  if (!numbers || process.env.CORRAL_FALLOCATE_HELPER === "off") return Promise.resolve(undefined);
  let child: ChildProcessWithoutNullStreams;
  try {
    const syscalls = [numbers.fallocate, numbers.sync, numbers.copy];
    const args = [...syscalls.map(String), failpointValue("fallocate-helper-exit") ?? ""];
    child = spawn("perl", ["-e", SCRIPT, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  } catch {
    return Promise.resolve(undefined);
  }
  const started = new FallocateHelper(child);
  return started.started().then((ok) => (ok ? started : undefined));
}

/**
 * fallocate(2) through the helper, started on first use. Resolves "unavailable" when there is no
 * helper (no perl, an architecture without a known syscall number, or it died before): the call
 * was not made, the caller uses fallocate(1). Rejects with a HelperError: with errno, the kernel
 * refused; without, the helper died while the call was pending (it may or may not have been made).
 * CORRAL_FALLOCATE_HELPER=off: always "unavailable" (fallocate(1) per call, as the bench's baseline).
 */
export function helperFallocate(mode: number, offset: number, length: number, path: string): Promise<"unavailable" | undefined> {
  return callHelper("f", [mode, offset, length], [path]);
}

/** Writes out the file's dirty pages from `offset` to its end and waits for them (sync_file_range); as helperFallocate otherwise. */
export function helperWriteOut(offset: number, path: string): Promise<"unavailable" | undefined> {
  return callHelper("s", [offset, 0, SYNC_FILE_RANGE_WRITE_AND_WAIT], [path]);
}

/**
 * Copies [position, position+length) of `from` into `to`, which must not exist (created 0640),
 * inside the kernel (copy_file_range); as helperFallocate otherwise. A rejected copy may leave
 * part of `to` behind.
 */
export function helperCopy(from: string, position: number, length: number, to: string): Promise<"unavailable" | undefined> {
  return callHelper("c", [position, length, 0], [from, to]);
}

async function callHelper(op: "f" | "s" | "c", args: [number, number, number], paths: string[]): Promise<"unavailable" | undefined> {
  helper ??= startHelper();
  const running = await helper;
  if (!running || running.dead || running.full) return "unavailable";
  await running.call(op, args, paths);
  return undefined;
}
