// WatchStats' own encoder writes exactly the bytes protobuf-es's toBinary writes for the same
// samples (as converted for GetStats), for real samples of real processes and for the edges of
// every field: unset and zero optionals, non-ASCII names, huge counters, long uptimes, errors.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { WatchStatsResponseSchema } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { WrongStateError } from "../../server/core/errors.js";
import type { RunLookup } from "../../server/core/monitor/runs.js";
import { StatsSampler, type ProcessStats, type StatsSample } from "../../server/core/monitor/stats.js";
import { encodeWatchStatsResponse, watchStatsResponse } from "../../server/rpc/stats-encoding.js";
import { sampleToProto } from "../../server/rpc/stats-to-proto.js";

const noRuns: RunLookup = {
  currentRun: (program) => {
    throw new WrongStateError(`program "${program}" is not running`, "NOT_RUNNING");
  },
  liveRuns: () => [],
};

/** What toBinary writes for these samples after the conversion GetStats uses. */
const reference = (samples: StatsSample[]) => toBinary(WatchStatsResponseSchema, create(WatchStatsResponseSchema, { samples: samples.map(sampleToProto) }));

function assertSameBytes(samples: StatsSample[], what: string): void {
  assert.deepEqual(Buffer.from(encodeWatchStatsResponse(samples)), Buffer.from(reference(samples)), what);
}

test("real samples of this process and a child tree encode as toBinary encodes them", async () => {
  const child = spawn("/bin/sh", ["-c", "sleep 30 & sleep 30 & wait"], { stdio: "ignore" });
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  try {
    const sampler = new StatsSampler(noRuns);
    const targets = [{ pid: process.pid }, { pid: child.pid! }, { program: "absent" }];
    for (const includeChildren of [false, true]) {
      sampler.sample(targets, includeChildren);
      const samples = sampler.sample(targets, includeChildren);
      assert.ok(samples[0].process?.cpuPercent !== undefined, "the second pass knows CPU %");
      assert.ok(samples[2].error, "a target that cannot be sampled carries its error");
      assertSameBytes(samples, `includeChildren ${includeChildren}`);
    }
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
});

test("every field's edges encode as toBinary encodes them", () => {
  const base: ProcessStats = {
    pid: 4_194_304,
    ppid: 1,
    name: "sleep",
    state: "S",
    cpuPercent: 12.5,
    cpuSeconds: 3.07,
    rssBytes: 5 * 2 ** 40,
    vsizeBytes: 2 ** 47 - 4096,
    threads: 3,
    openFds: 1_000_000,
    startedAt: new Date(1_764_600_000_123),
    uptimeMs: 1520.24488,
    pidStartTicks: 2 ** 40 + 7,
  };
  const variants: ProcessStats[] = [
    base,
    { ...base, cpuPercent: undefined, openFds: undefined },
    { ...base, cpuPercent: 0, openFds: 0, cpuSeconds: 0, threads: 0, rssBytes: 0, vsizeBytes: 0, pidStartTicks: 0 },
    { ...base, cpuPercent: -0, cpuSeconds: -0 },
    { ...base, name: "", state: "", ppid: 0 },
    // comm is read as latin1: bytes past ASCII become two-byte UTF-8.
    { ...base, name: "caf\u00e9 (\u00ff) x", state: "Z" },
    { ...base, name: "\u65e5\u672c \ud83d\ude00" },
    // Uptimes past 2^53 ns (104 days), whole seconds, sub-nanosecond fractions, and zero.
    { ...base, uptimeMs: 200 * 86_400_000 + 0.123456 },
    { ...base, uptimeMs: Number.MAX_SAFE_INTEGER / 1e6 },
    { ...base, uptimeMs: 9_000_000_999.9999 },
    { ...base, uptimeMs: 5000 },
    { ...base, uptimeMs: 0.0000004 },
    { ...base, uptimeMs: 0 },
    { ...base, startedAt: new Date(0) },
    { ...base, startedAt: new Date(1000) },
    { ...base, startedAt: new Date(999) },
  ];
  const time = new Date(1_764_600_100_999);
  const samples: StatsSample[] = variants.map((stats, i) => ({
    target: i % 2 ? { pid: stats.pid } : { program: `prog-${i}` },
    program: i % 3 ? `prog-${i}` : undefined,
    runId: i % 4 ? 2 ** 50 + i : undefined,
    process: stats,
    total: stats,
    children: [],
    time,
  }));
  samples.push(
    { target: { pid: 1 }, process: base, total: { ...base, rssBytes: base.rssBytes * 2 }, children: [variants[1], variants[5]], time, runId: 0, program: "" },
    { target: { program: "" }, children: [], time, error: new Error("program \u201cx\u201d is not running") },
    { target: { pid: 0 }, children: [], time: new Date(0), error: new Error("") },
  );
  for (const [i, sample] of samples.entries()) assertSameBytes([sample], `sample ${i}`);
  assertSameBytes(samples, "all at once");
  assertSameBytes([], "no samples");
});

test("a tick far bigger than the scratch buffer encodes whole, and the next one too", () => {
  const sampler = new StatsSampler(noRuns);
  const many = sampler.sample(
    Array.from({ length: 5000 }, () => ({ pid: process.pid })),
    false,
  );
  assertSameBytes(many, "5000 samples (about 1 MB)");
  assertSameBytes(many.slice(0, 3), "a small tick after it");
});

test("the response the service yields reads as the GetStats conversion (for the Connect bridge)", () => {
  const sampler = new StatsSampler(noRuns);
  const samples = sampler.sample([{ pid: process.pid }, { program: "absent" }], false);
  const response = watchStatsResponse(samples);
  assert.deepEqual(toBinary(WatchStatsResponseSchema, create(WatchStatsResponseSchema, response)), reference(samples));
});
