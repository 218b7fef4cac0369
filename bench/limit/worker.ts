// The bare-Node limit for the process rows: a plain node process (node: modules only, nothing of
// corral loaded) that does the same work as the daemon when the runner asks it over IPC: spawn N
// `sleep`s, hold them (its RSS and idle CPU are the baselines), kill them and check /proc until
// they are gone, and one plain /proc pass over a set of pids (stat, status, fd count).
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export type LimitRequest = { op: "spawn"; n: number } | { op: "kill" } | { op: "procPass"; pids: number[] } | { op: "exit" };
export interface LimitReply {
  ms: number;
  /** procPass: this process's CPU time for the pass. */
  cpuMs?: number;
  pids?: number[];
}

let children: ChildProcess[] = [];

function alive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    return text[text.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

async function spawnAll(n: number): Promise<LimitReply> {
  const t0 = performance.now();
  const started = Array.from({ length: n }, () => {
    const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    children.push(child);
    return new Promise<void>((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  });
  await Promise.all(started);
  return { ms: performance.now() - t0, pids: children.map((c) => c.pid!) };
}

async function killAll(): Promise<LimitReply> {
  const t0 = performance.now();
  const pids = children.map((c) => c.pid!);
  for (const pid of pids) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  // Gone from /proc (or a zombie not yet reaped: it runs nothing), as the runner checks corral's.
  for (const pid of pids) while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 2));
  children = [];
  return { ms: performance.now() - t0 };
}

/** What a naive sampler reads per pid per tick: stat, status and the fd directory. */
function procPass(pids: number[]): LimitReply {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const pid of pids) {
    try {
      readFileSync(`/proc/${pid}/stat`, "latin1");
      readFileSync(`/proc/${pid}/status`, "latin1");
      readdirSync(`/proc/${pid}/fd`);
    } catch {
      // gone meanwhile
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on("message", async (request: LimitRequest) => {
  if (request.op === "exit") {
    await killAll();
    process.disconnect();
    return;
  }
  const reply = request.op === "spawn" ? await spawnAll(request.n) : request.op === "kill" ? await killAll() : procPass(request.pids);
  process.send!(reply);
});
process.send!({ ms: 0 });
