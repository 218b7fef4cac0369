// The /proc readers of stats ticks and group stops: the single-read stat text and the fd count
// from stat(2) of /proc/PID/fd give what readFileSync and a directory listing give.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { countOpenFds, readProcSample } from "../../server/core/os/proc-sample.js";
import { readStatText } from "../../server/core/os/proc.js";

test("a process's stat text and open-fd count read as readFileSync and a listing of its fd directory say", async () => {
  // 3 stdio + 12 extra pipes: the child holds at least 15 fds.
  const child = spawn("sleep", ["30"], { stdio: ["ignore", "ignore", "ignore", ...Array.from({ length: 12 }, () => "pipe" as const)] });
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  try {
    const pid = child.pid!;
    const listed = readdirSync(`/proc/${pid}/fd`).length;
    assert.ok(listed >= 15, `the child holds its 15 fds (${listed})`);
    assert.equal(countOpenFds(pid), listed);
    // utime/stime may tick between the two reads; every field before them is stable.
    const stable = (text: string) => text.split(" ").slice(0, 13).join(" ");
    assert.equal(stable(readStatText(pid)!), stable(readFileSync(`/proc/${pid}/stat`, "latin1")));
    assert.equal(readProcSample(pid)?.comm, "sleep");
    assert.equal(countOpenFds(process.pid), readdirSync("/proc/self/fd").length - 1, "our own count (the listing holds one fd of its own)");
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
  assert.equal(readStatText(child.pid!), undefined, "a process that is gone reads as undefined");
  assert.equal(countOpenFds(child.pid!), undefined);
});
