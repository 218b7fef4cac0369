// Specification of merged log following and its memory (issue 7): following a program's stdout
// and stderr together interleaves them, ends and fails like its sources, and keeps no chunk it
// has already served, however long one stream stays quiet.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { merge } from "../../server/core/process/merge.js";
import { program, sh, startManager } from "../helpers/core.js";
import { collectGarbage, stillReachable } from "../helpers/gc.js";

/** Yields the items, then ends (or throws `failure` instead of ending). */
async function* items<T>(values: T[], failure?: Error): AsyncGenerator<T> {
  for (const value of values) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield value;
  }
  if (failure) throw failure;
}

/** Yields nothing until signal aborts, like a follower of a stream nobody writes to. */
async function* quietUntil(signal: AbortSignal, returned: { count: number }): AsyncGenerator<never> {
  try {
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  } finally {
    returned.count++;
  }
}

describe("merge", () => {
  test("yields every item of every source, each source in its own order, and ends when all have ended", async () => {
    const seen: string[] = [];
    for await (const item of merge([items(["a1", "a2", "a3"]), items(["b1", "b2"]), items<string>([])])) seen.push(item);
    assert.deepEqual([...seen].sort(), ["a1", "a2", "a3", "b1", "b2"]);
    assert.deepEqual(
      seen.filter((s) => s.startsWith("a")),
      ["a1", "a2", "a3"],
    );
    assert.deepEqual(
      seen.filter((s) => s.startsWith("b")),
      ["b1", "b2"],
    );
  });

  test("a source's error ends the merged stream with that error, and every source is returned", async () => {
    const quiet = new AbortController();
    const returned = { count: 0 };
    const seen: string[] = [];
    const run = async () => {
      for await (const item of merge<string>([items(["x1"], new Error("disk gone")), quietUntil(quiet.signal, returned)])) {
        seen.push(item);
        // The quiet source is returned only once its pending read ends (as a follower's does on abort).
        quiet.abort();
      }
    };
    await assert.rejects(run(), /disk gone/);
    assert.deepEqual(seen, ["x1"]);
    assert.equal(returned.count, 1, "the quiet source was returned");
  });

  test("keeps no item it has yielded while another source stays quiet", async () => {
    const quiet = new AbortController();
    const returned = { count: 0 };
    const chatty = async function* (): AsyncGenerator<{ payload: Buffer }> {
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yield { payload: Buffer.alloc(1024) };
      }
    };
    const refs: WeakRef<object>[] = [];
    let reachable = -1;
    for await (const item of merge([chatty(), quietUntil(quiet.signal, returned)])) {
      refs.push(new WeakRef(item));
      if (refs.length < 500) continue;
      await collectGarbage();
      reachable = stillReachable(refs);
      quiet.abort();
      break;
    }
    // The item being handled and the one read ahead may still be held; not the other 498.
    assert.ok(reachable >= 0 && reachable <= 2, `${reachable} of ${refs.length} yielded items are still reachable`);
    assert.equal(returned.count, 1);
  });
});

describe("following both streams", () => {
  test("chunks already served are not kept while stderr stays quiet (issue 7)", async () => {
    // ~100 KB of stdout every 20 ms and no stderr: the follower of stderr waits the whole time.
    const writer = "b=$(i=0; while [ $i -lt 100 ]; do printf '%01000d\\n' $i; i=$((i+1)); done); while :; do printf '%s\\n' \"$b\"; sleep 0.02; done";
    const f = startManager([program("writer", sh(writer))]);
    try {
      await f.manager.start("writer");
      const abort = new AbortController();
      const refs: WeakRef<object>[] = [];
      let bytes = 0;
      let reachable = -1;
      for await (const chunk of f.manager.followLogs("writer", { signal: abort.signal })) {
        assert.equal(chunk.stream, "stdout");
        refs.push(new WeakRef(chunk.data));
        bytes += chunk.data.length;
        if (bytes < 20_000_000) continue;
        // Still following (the stderr follower still pending): what is kept now is what would pile up.
        await collectGarbage();
        reachable = stillReachable(refs);
        abort.abort();
      }
      assert.ok(refs.length >= 10, `${refs.length} chunks`);
      assert.ok(reachable >= 0 && reachable <= 3, `${reachable} of ${refs.length} served chunks (${(bytes / 1e6).toFixed(0)} MB) are still reachable`);
    } finally {
      await f.close();
    }
  });
});
