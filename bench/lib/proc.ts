// /proc figures of another process for the bench rows: CPU time in nanoseconds (schedstat, per
// thread, so GC and libuv threads count), resident memory, open fds.
import { readdirSync, readFileSync } from "node:fs";

/** CPU time spent by every live thread of pid, in ms (from /proc/PID/task/TID/schedstat, ns). */
export function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) / 1024;
}

/** The RSS of a process's perl children (the daemon's spawner and fallocate helper), MB. */
export function perlChildrenRssMb(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, "latin1").split(" ").filter(Boolean)) {
      try {
        if (readFileSync(`/proc/${child}/stat`, "latin1").includes(" (perl) ")) total += rssMb(Number(child));
      } catch {
        // exited meanwhile
      }
    }
  }
  return total;
}

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Whether pid still runs (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    return text[text.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
