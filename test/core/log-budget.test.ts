// Specification of the total cap on logs (server.logs.max_total): real programs write, the
// oldest backups across programs go first, then current files; offsets stay logical and every
// drop is an event.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ProcessManager } from "../../server/core/process/manager.js";
import type { ProgramConfig } from "../../server/core/process/types.js";
import { program, sh, tempHome, waitForState, waitUntil } from "../helpers/core.js";

const LINE = 12; // "pN 00000042\n"

/** Writes `batches` x 100 numbered lines of 12 bytes, line i at logical offset 12*i. */
function writer(name: string, batches: number, pauseSec: number): string[] {
  return sh(`b=0; while [ $b -lt ${batches} ]; do seq -f "${name} %08g" $((b*100)) $((b*100+99)); b=$((b+1)); sleep ${pauseSec}; done`);
}

function logBytesOnDisk(home: string): number {
  const dir = join(home, "logs");
  return readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

function withManager(programs: ProgramConfig[], logMaxTotalBytes: number) {
  const { home, remove } = tempHome();
  const manager = new ProcessManager({ home, programs, logMaxTotalBytes });
  return {
    home,
    manager,
    close: async () => {
      await manager.shutdown();
      await remove();
    },
  };
}

/** The data at the first kept offset holds the lines that were written at those offsets. */
async function assertOffsetsLogical(manager: ProcessManager, name: string, options: { mayBeEmpty?: boolean } = {}): Promise<{ first: number; end: number }> {
  const read = await manager.readLogs(name, { stream: "stdout", offset: 0 });
  const { firstOffset: first, endOffset: end, chunk } = read;
  assert.equal(chunk.offset, first, "a read of dropped bytes starts at the first kept offset");
  const text = chunk.data.toString();
  // The first kept byte need not begin a line: check from the first whole line on.
  const skip = first % LINE === 0 ? 0 : text.indexOf("\n") + 1;
  const lines = text
    .slice(skip)
    .split("\n")
    .filter((l) => l.length > 0);
  if (options.mayBeEmpty && first === end) return { first, end };
  assert.ok(lines.length > 0, `${name}: nothing kept`);
  lines.forEach((line, i) => {
    const offset = first + skip + i * LINE;
    assert.equal(line, `${name} ${String(offset / LINE).padStart(8, "0")}`, `${name}: line at logical offset ${offset}`);
  });
  return { first, end };
}

function dropEvents(manager: ProcessManager): { program: string; message: string }[] {
  return manager.journal
    .recent()
    .filter((e) => e.detail.kind === "server" && e.detail.message.startsWith("log retention"))
    .map((e) => ({ program: e.program, message: e.detail.kind === "server" ? e.detail.message : "" }));
}

test("over server.logs.max_total the oldest backups across programs are dropped first; offsets stay logical", async () => {
  const cap = 60 * 1024;
  // Each program writes 48000 bytes; rotation at 8 KiB with 10 backups keeps all of it, so only
  // the total cap drops anything: one program fits, two do not.
  const log = { maxBytes: 8 * 1024, backups: 10 };
  const f = withManager([program("p1", writer("p1", 40, 0.03), { log }), program("p2", writer("p2", 40, 0.03), { log })], cap);
  try {
    await f.manager.start("p1");
    await waitForState(f.manager, "p1", "EXITED", 30_000);
    await waitUntil(async () => (await f.manager.readLogs("p1", { stream: "stdout", maxBytes: 1 })).endOffset === 48_000, 10_000, "p1's output to be complete");
    assert.equal(dropEvents(f.manager).length, 0, "one program's logs fit under the cap");

    await f.manager.start("p2");
    await waitForState(f.manager, "p2", "EXITED", 30_000);
    await waitUntil(() => logBytesOnDisk(f.home) <= cap, 15_000, `all logs to shrink to ${cap} bytes (now ${logBytesOnDisk(f.home)})`);

    const events = dropEvents(f.manager);
    assert.ok(events.length > 0, "each drop is an event");
    // p1's backups are older than any of p2's: only they went.
    assert.deepEqual([...new Set(events.map((e) => e.program))], ["p1"], JSON.stringify(events));
    assert.match(
      events[0].message,
      /dropped \d+ bytes of p1's stdout \(offsets 0-\d+, .*p1\.stdout\.log\.\d+\): all logs took \d+ bytes, over server\.logs\.max_total=61440/,
    );
    const p1 = await assertOffsetsLogical(f.manager, "p1");
    const p2 = await assertOffsetsLogical(f.manager, "p2");
    assert.ok(p1.first > 0, "p1 lost its oldest bytes");
    assert.equal(p1.end, 48_000, "p1's logical end still counts every byte it wrote");
    assert.equal(p2.first, 0, "p2 kept everything");
    assert.equal(p2.end, 48_000);
  } finally {
    await f.close();
  }
});

test("with no backups left, the largest current file is emptied; its logical end still counts every byte", async () => {
  const cap = 20 * 1024;
  // Rotation off: only the total cap bounds this file.
  const f = withManager([program("p3", writer("p3", 40, 0.05), { log: { maxBytes: 0, backups: 0 } }), program("quiet", sh("echo hi"))], cap);
  try {
    await f.manager.start("quiet");
    await f.manager.start("p3");
    await waitForState(f.manager, "p3", "EXITED", 30_000);
    await waitUntil(() => logBytesOnDisk(f.home) <= cap, 15_000, `all logs to shrink to ${cap} bytes (now ${logBytesOnDisk(f.home)})`);
    const events = dropEvents(f.manager);
    assert.ok(events.length >= 1 && events.every((e) => e.program === "p3"), JSON.stringify(events));
    assert.match(events[0].message, /of p3's stdout \(offsets 0-\d+, .*p3\.stdout\.log\)/);
    // A check that comes late (a loaded machine) may find the whole file over the cap and empty it.
    const p3 = await assertOffsetsLogical(f.manager, "p3", { mayBeEmpty: true });
    assert.ok(p3.first > 0);
    assert.equal(p3.end, 48_000);
    const quiet = await f.manager.readLogs("quiet", { stream: "stdout" });
    assert.equal(quiet.chunk.data.toString(), "hi\n", "the small log was left alone");
  } finally {
    await f.close();
  }
});

test("a custom stream counts against the cap like stdout: its file is cut, its logical end still counts every byte", async () => {
  const cap = 20 * 1024;
  // The writer's lines go to fd 3, the custom stream "progress"; rotation off: only the cap bounds it.
  const toProgress = writer("p4", 40, 0.05).map((arg, i, all) => (i === all.length - 1 ? `{ ${arg}; } >&3` : arg));
  const f = withManager([program("p4", toProgress, { log: { maxBytes: 0, backups: 0 }, customStreams: ["progress"] })], cap);
  try {
    await f.manager.start("p4");
    await waitForState(f.manager, "p4", "EXITED", 30_000);
    await waitUntil(() => logBytesOnDisk(f.home) <= cap, 15_000, `all logs to shrink to ${cap} bytes (now ${logBytesOnDisk(f.home)})`);
    const events = dropEvents(f.manager);
    assert.ok(events.length >= 1, "each drop is an event");
    assert.match(events[0].message, /of p4's progress \(offsets 0-\d+, .*p4\.progress\.log\)/);
    const read = await f.manager.readLogs("p4", { streamName: "progress", offset: 0 });
    assert.ok(read.firstOffset > 0, "its oldest bytes went");
    assert.equal(read.endOffset, 48_000, "every byte it wrote is counted");
    assert.deepEqual(
      read.chunk.gaps?.map((g) => [g.stream, g.reason]),
      [["progress", "max_total"]],
    );
    assert.equal((await f.manager.readLogs("p4", { stream: "stdout" })).endOffset, 0, "nothing went to stdout");
  } finally {
    await f.close();
  }
});
