// Specification of output and events: log files per stream, reads by offset and tail, rotation
// with bounded backups, following with low latency, and a resumable event journal.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EventJournal } from "../../server/core/process/journal.js";
import type { LogChunk } from "../../server/core/process/types.js";
import { program, sh, startManager, waitForState, waitUntil } from "../helpers/core.js";

describe("logs", () => {
  test("stdout and stderr go to their own files; read by offset and by last N lines", async () => {
    const f = startManager([program("talker", sh("for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done"))]);
    try {
      await f.manager.start("talker");
      await waitForState(f.manager, "talker", "EXITED");
      const all = await f.manager.readLogs("talker", { stream: "stdout" });
      assert.equal(all.chunk.data.toString(), "out1\nout2\nout3\nout4\nout5\n");
      assert.equal(all.firstOffset, 0);
      assert.equal(all.endOffset, 25);
      const err = await f.manager.readLogs("talker", { stream: "stderr", offset: 5, maxBytes: 10 });
      assert.equal(err.chunk.data.toString(), "err2\nerr3\n");
      assert.equal(err.chunk.offset, 5);
      const tail = await f.manager.readLogs("talker", { stream: "stdout", tailLines: 2 });
      assert.equal(tail.chunk.data.toString(), "out4\nout5\n");
      assert.equal(tail.chunk.offset, 15);
    } finally {
      await f.close();
    }
  });

  test("size rotation keeps bounded backups and logical offsets stay valid", async () => {
    // 40 lines of 1000 bytes = 40000 bytes, max 8 KiB per file, 2 backups.
    const script = `i=0; while [ $i -lt 40 ]; do printf '%0999d\\n' $i; i=$((i+1)); sleep 0.03; done`;
    const f = startManager([program("chatty", sh(script), { log: { maxBytes: 8192, backups: 2 } })]);
    try {
      await f.manager.start("chatty");
      await waitForState(f.manager, "chatty", "EXITED", 15_000);
      const logs = join(f.home, "logs");
      const backups = () => readdirSync(logs).filter((name) => /^chatty\.stdout\.log\.\d{20}$/.test(name));
      await waitUntil(() => backups().length === 2, 5000, "two backups");
      const end = await f.manager.readLogs("chatty", { stream: "stdout", tailLines: 1 });
      assert.equal(end.endOffset, 40000, "the logical size counts rotated bytes");
      assert.equal(end.chunk.data.toString(), `${"39".padStart(999, "0")}\n`);
      assert.equal(end.chunk.offset, 39000);
      assert.ok(end.firstOffset > 0, "old bytes were rotated away");
      // Each backup is named by the offset of its first byte and holds at most max_bytes.
      for (const name of backups()) assert.ok(statSync(join(logs, name)).size <= 8192, name);
      const kept = await f.manager.readLogs("chatty", { stream: "stdout", offset: end.firstOffset });
      assert.equal(kept.chunk.data.length, 40000 - end.firstOffset);
      assert.deepEqual(kept.chunk.gaps, undefined, "reading from the first kept offset reports no gap");
      // Every kept byte is where its offset says: line i starts at i * 1000.
      const text = kept.chunk.data.toString();
      for (let offset = Math.ceil(end.firstOffset / 1000) * 1000; offset < 40000; offset += 1000) {
        assert.equal(text.slice(offset - end.firstOffset, offset - end.firstOffset + 1000), `${String(offset / 1000).padStart(999, "0")}\n`);
      }
      const fromZero = await f.manager.readLogs("chatty", { stream: "stdout", offset: 0, maxBytes: 10 });
      assert.deepEqual(
        fromZero.chunk.gaps,
        [{ stream: "stdout", label: "stdout", fromOffset: 0, toOffset: end.firstOffset, reason: "backups" }],
        "what was rotated away is said",
      );
      assert.ok(statSync(join(logs, "chatty.stdout.log")).size <= 8192 + 4096);
    } finally {
      await f.close();
    }
  });

  test("follow streams new output quickly and ends when the reader aborts", async () => {
    const f = startManager([program("ticker", sh("i=0; while :; do echo tick$i; i=$((i+1)); sleep 0.2; done"))]);
    try {
      await f.manager.start("ticker");
      const abort = new AbortController();
      const received: LogChunk[] = [];
      const latencies: number[] = [];
      const t0 = Date.now();
      for await (const chunk of f.manager.followLogs("ticker", { stream: "stdout", signal: abort.signal })) {
        received.push(chunk);
        latencies.push(Date.now() - chunk.time.getTime());
        if (
          received
            .map((c) => c.data.toString())
            .join("")
            .split("\n").length > 4
        )
          abort.abort();
      }
      assert.ok(Date.now() - t0 < 5000);
      const text = received.map((c) => c.data.toString()).join("");
      assert.match(text, /^tick\d+\n(tick\d+\n)+/);
      // Offsets are contiguous.
      for (let i = 1; i < received.length; i++) assert.equal(received[i].offset, received[i - 1].offset + received[i - 1].data.length);
    } finally {
      await f.close();
    }
  });

  test("follow of both streams with a tail delivers stdout and stderr", async () => {
    const f = startManager([program("both", sh("echo early-out; echo early-err >&2; sleep 0.3; echo late-out; echo late-err >&2; sleep 30"))]);
    try {
      await f.manager.start("both");
      // The early lines are on disk, so the tail (not the live follow) is what delivers them.
      const written = async (stream: "stdout" | "stderr", text: string) => (await f.manager.readLogs("both", { stream })).chunk.data.toString().includes(text);
      await waitUntil(async () => (await written("stdout", "early-out")) && (await written("stderr", "early-err")), 10_000, "the early lines to be written");
      const abort = new AbortController();
      const seen = new Set<string>();
      for await (const chunk of f.manager.followLogs("both", { tailLines: 5, signal: abort.signal })) {
        for (const line of chunk.data.toString().trim().split("\n")) seen.add(`${chunk.stream}:${line}`);
        if (seen.size >= 4) abort.abort();
      }
      assert.deepEqual([...seen].sort(), ["stderr:early-err", "stderr:late-err", "stdout:early-out", "stdout:late-out"]);
    } finally {
      await f.close();
    }
  });
});

describe("events", () => {
  test("a watcher resuming after seq N gets every later event in order, start before exit", async () => {
    const f = startManager([program("blip", sh("sleep 0.05; exit 2"), { autorestart: "never" })]);
    try {
      const before = f.manager.journal.lastSeq;
      await f.manager.start("blip");
      await waitForState(f.manager, "blip", "EXITED");
      const abort = new AbortController();
      const seen: string[] = [];
      const seqs: number[] = [];
      setTimeout(() => abort.abort(), 300);
      for await (const item of f.manager.watchEvents({ afterSeq: before, signal: abort.signal })) {
        assert.ok("event" in item);
        seqs.push(item.event.seq);
        seen.push(item.event.detail.kind === "stateChanged" ? item.event.detail.to : item.event.detail.kind);
      }
      assert.deepEqual(seen, ["STARTING", "processStarted", "RUNNING", "processExited", "EXITED"]);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => before + 1 + i),
      );
    } finally {
      await f.close();
    }
  });

  test("a watcher that asks for more than the journal holds is told what it missed", async () => {
    const journal = new EventJournal(5);
    for (let i = 0; i < 12; i++) journal.append("x", 0, { kind: "server", message: `e${i}` });
    const abort = new AbortController();
    const items = [];
    setTimeout(() => abort.abort(), 50);
    for await (const item of journal.watch({ afterSeq: 3, signal: abort.signal })) items.push(item);
    assert.deepEqual(items[0], { gap: { reason: "not-held", afterSeq: 3, firstAvailableSeq: 8, missed: 4 } });
    assert.deepEqual(
      items.slice(1).map((i) => ("event" in i ? i.event.seq : -1)),
      [8, 9, 10, 11, 12],
    );
  });

  test("a slow watcher costs no queue of its own: when the ring has moved past it, it is told how many it lost", async () => {
    const journal = new EventJournal(10);
    const abort = new AbortController();
    const iterator = journal.watch({ liveOnly: true, signal: abort.signal });
    const first = iterator.next(); // takes its cursor, then waits
    journal.append("x", 0, { kind: "server", message: "e0" });
    assert.equal(((await first).value as { event: { seq: number } }).event.seq, 1);
    // The watcher reads nothing while 50 more are journaled; the ring keeps the last 10.
    for (let i = 1; i <= 50; i++) journal.append("x", 0, { kind: "server", message: `e${i}` });
    const items = [];
    for (let i = 0; i < 11; i++) items.push((await iterator.next()).value);
    abort.abort();
    await iterator.return(undefined);
    assert.deepEqual(items[0], { gap: { reason: "fell-behind", afterSeq: 1, firstAvailableSeq: 42, missed: 40 } });
    assert.deepEqual(
      items.slice(1).map((i) => (i && "event" in i ? i.event.seq : -1)),
      [42, 43, 44, 45, 46, 47, 48, 49, 50, 51],
    );
  });

  test("a watcher whose after_seq is beyond the journal's last seq is told so, then gets everything held", async () => {
    const journal = new EventJournal(10);
    for (let i = 0; i < 3; i++) journal.append("x", 0, { kind: "server", message: `e${i}` });
    const abort = new AbortController();
    const items = [];
    for await (const item of journal.watch({ afterSeq: 57, signal: abort.signal })) {
      items.push(item);
      if (items.length === 4) abort.abort();
    }
    assert.deepEqual(items[0], { gap: { reason: "ahead", afterSeq: 57, firstAvailableSeq: 1, missed: 0 } });
    assert.deepEqual(
      items.slice(1).map((i) => ("event" in i ? i.event.seq : -1)),
      [1, 2, 3],
    );
  });

  test("live events arrive while waiting", async () => {
    const f = startManager([program("late", sh("sleep 30"))]);
    try {
      const abort = new AbortController();
      const got: string[] = [];
      // From the journal's last event on: the start's events come whether or not the watch is
      // already waiting when they are published (a live-only watch needed a sleep to be in time).
      const afterSeq = f.manager.journal.lastSeq;
      const watching = (async () => {
        for await (const item of f.manager.watchEvents({ afterSeq, programs: ["late"], signal: abort.signal })) {
          if ("event" in item && item.event.detail.kind === "stateChanged") got.push(item.event.detail.to);
          if (got.includes("RUNNING")) abort.abort();
        }
      })();
      await f.manager.start("late");
      await waitUntil(() => got.includes("RUNNING"), 3000, "RUNNING event");
      await watching;
      assert.deepEqual(got, ["STARTING", "RUNNING"]);
    } finally {
      await f.close();
    }
  });
});
