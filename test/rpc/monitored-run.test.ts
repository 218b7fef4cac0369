// End-to-end specification of RunMonitored and ReportProgress (Launchpad's rules): real
// commands under a real daemon; assertions on the notifications a client receives.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ClientError, LogStream, MonitoredOutcome, ProgressSource, Status, TimeoutKind, type RunMonitoredResponse } from "../../client/ts/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { RunMonitoredRequestSchema } from "../../gen/ts/corral/v1/process_monitor_pb.js";
import { isAlive, processGroupMembers, startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { readStat } from "../helpers/proc.js";

const NODE = process.execPath;
const ms = (n: number) => ({ seconds: BigInt(Math.floor(n / 1000)), nanos: (n % 1000) * 1_000_000 });

describe("RunMonitored over gRPC", () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startTestDaemon();
  });
  after(async () => {
    await daemon?.stop();
  });

  async function runToEnd(
    request: MessageInitShape<typeof RunMonitoredRequestSchema>,
    onEvent?: (e: RunMonitoredResponse) => void,
  ): Promise<RunMonitoredResponse[]> {
    const events: RunMonitoredResponse[] = [];
    for await (const event of daemon.client.processMonitor.runMonitored(request)) {
      events.push(event);
      onEvent?.(event);
    }
    return events;
  }

  const resultOf = (events: RunMonitoredResponse[]) => {
    const last = events[events.length - 1]!;
    assert.equal(last.event.case, "result", "the result comes last");
    return last.event.value as Extract<RunMonitoredResponse["event"], { case: "result" }>["value"];
  };

  test("a command that exits 0 streams started, its output, then COMPLETED", async () => {
    const events = await runToEnd({ command: "/bin/sh", args: ["-c", "echo hello; echo oops >&2"] });
    assert.equal(events[0]!.event.case, "started");
    const output = events.filter((e) => e.event.case === "output").map((e) => e.event.value as { stream: LogStream; data: Uint8Array });
    assert.equal(Buffer.concat(output.filter((o) => o.stream === LogStream.STDOUT).map((o) => o.data)).toString(), "hello\n");
    assert.equal(Buffer.concat(output.filter((o) => o.stream === LogStream.STDERR).map((o) => o.data)).toString(), "oops\n");
    const result = resultOf(events);
    assert.equal(result.outcome, MonitoredOutcome.COMPLETED);
    assert.equal(result.exitCode, 0);
  });

  test("a non-zero exit is FAILED with its code", async () => {
    const result = resultOf(await runToEnd({ command: "/bin/sh", args: ["-c", "exit 3"] }));
    assert.equal(result.outcome, MonitoredOutcome.FAILED);
    assert.equal(result.exitCode, 3);
  });

  test("a missing executable is SPAWN_FAILED, not an exit code", async () => {
    const events = await runToEnd({ command: "/nonexistent/corral-missing", args: [] });
    assert.equal(events.length, 1);
    const result = resultOf(events);
    assert.equal(result.outcome, MonitoredOutcome.SPAWN_FAILED);
    assert.equal(result.spawnErrno, "ENOENT");
    assert.equal(result.spawnPath, "/nonexistent/corral-missing");
    assert.equal(result.exitCode, undefined);
  });

  test("a run that prints output but reports no progress is timed out for inactivity", async () => {
    const events = await runToEnd({
      command: NODE,
      args: ["-e", "setInterval(() => console.log('noise'), 50)"],
      inactivityTimeout: ms(700),
      progressPattern: "^PROGRESS",
      killGrace: ms(2000),
    });
    const result = resultOf(events);
    assert.equal(result.outcome, MonitoredOutcome.TIMED_OUT);
    assert.equal(result.timeout, TimeoutKind.INACTIVITY);
    assert.ok(events.filter((e) => e.event.case === "output").length > 3, "it did print");
    assert.equal(events.filter((e) => e.event.case === "progress").length, 0);
    assert.equal(result.signal, "SIGINT", "node exits on the default kill signal, SIGINT");
    assert.equal(result.sigkilled, false);
    // When it timed out is the monitor's own figure (no wall-clock bound here: a loaded machine
    // stretches the run; noise resetting the timer would never time out and fail above).
    assert.ok(result.timedOutAfter && Number(result.timedOutAfter.seconds) * 1000 + result.timedOutAfter.nanos / 1e6 >= 690);
  });

  test("progress lines reset the inactivity timeout, so a run that keeps progressing completes", async () => {
    const events = await runToEnd({
      command: NODE,
      args: ["-e", "let i = 0; const t = setInterval(() => { console.log('PROGRESS ' + ++i); if (i === 12) clearInterval(t); }, 100)"],
      inactivityTimeout: ms(800),
      progressPattern: "^PROGRESS \\d+$",
    });
    const result = resultOf(events);
    assert.equal(result.outcome, MonitoredOutcome.COMPLETED, result.message);
    const progress = events.filter((e) => e.event.case === "progress").map((e) => e.event.value as { message: string; source: ProgressSource });
    assert.equal(progress.length, 12);
    assert.deepEqual(progress[0], { ...progress[0], message: "PROGRESS 1", source: ProgressSource.PATTERN });
  });

  test("ReportProgress from another call resets the inactivity timeout; an unknown run is NOT_FOUND", async () => {
    let reporter: NodeJS.Timeout | undefined;
    const reports: Promise<unknown>[] = [];
    const events = await runToEnd({ command: "sleep", args: ["1.5"], inactivityTimeout: ms(700) }, (event) => {
      if (event.event.case === "started") {
        const runId = event.event.value.runId;
        reporter = setInterval(() => reports.push(daemon.client.processMonitor.reportProgress({ runId, message: "still here" }).catch(() => undefined)), 150);
      }
    });
    clearInterval(reporter);
    await Promise.all(reports);
    const result = resultOf(events);
    assert.equal(result.outcome, MonitoredOutcome.COMPLETED, result.message);
    assert.ok(events.some((e) => e.event.case === "progress" && e.event.value.source === ProgressSource.REPORT));
    try {
      await daemon.client.processMonitor.reportProgress({ runId: 1n, message: "x" });
      assert.fail("expected NOT_FOUND");
    } catch (error) {
      assert.ok(error instanceof ClientError);
      assert.equal(error.code, Status.NOT_FOUND);
    }
  });

  test("a child that ignores SIGINT is SIGKILLed after the grace, with its whole group", async () => {
    let pid = 0;
    const events = await runToEnd(
      { command: "/bin/sh", args: ["-c", "trap '' INT; sleep 600 & while :; do sleep 0.1; done"], totalTimeout: ms(300), killGrace: ms(600) },
      (event) => {
        if (event.event.case === "started") pid = event.event.value.pid;
      },
    );
    const result = resultOf(events);
    assert.equal(result.outcome, MonitoredOutcome.TIMED_OUT);
    assert.equal(result.timeout, TimeoutKind.TOTAL);
    assert.equal(result.sigkilled, true);
    assert.equal(result.signal, "SIGKILL");
    assert.deepEqual(processGroupMembers(pid), [], "nothing of the group is left");
  });

  test("a zombie left in the group does not hold up the result: no wait for the grace, no useless SIGKILL", async () => {
    // The leader exits on SIGINT at once; the member its holder (outside the group, alive) never
    // reaps stays a zombie in the group, as killed grandchildren do under a slow-reaping init.
    const dir = mkdtempSync(join(tmpdir(), "corral-zombie-"));
    const out = join(dir, "holder");
    const holder = `perl -MPOSIX -e '
      my $group = getpgrp(); setpgid(0, 0);
      my $child = fork();
      if ($child == 0) { setpgid(0, $group); $SIG{INT} = "DEFAULT"; exec("sleep", "300"); }
      setpgid($child, $group);
      open(my $f, ">", "$ENV{OUT}.tmp"); print $f "holder $$ member $child\\n"; close $f; rename("$ENV{OUT}.tmp", $ENV{OUT});
      sleep 120;' </dev/null >/dev/null 2>&1 &`;
    const script = `${holder}\nwhile [ ! -s "$OUT" ]; do echo PROGRESS; sleep 0.05; done\nwhile :; do sleep 0.1; done`;
    let holderPid = 0;
    try {
      // Progress stops once the holder is set up; the inactivity timeout then sends SIGINT. A grace
      // of 60 s: waiting for the zombie would end in SIGKILL, which the result would report.
      const events = await runToEnd({
        command: "/bin/sh",
        args: ["-c", script],
        env: { OUT: out },
        inactivityTimeout: ms(300),
        progressPattern: "^PROGRESS",
        killGrace: ms(60_000),
      });
      const [, holderText, memberText] = /holder (\d+) member (\d+)/.exec(readFileSync(out, "utf8"))!;
      holderPid = Number(holderText);
      const result = resultOf(events);
      assert.equal(result.outcome, MonitoredOutcome.TIMED_OUT);
      assert.equal(result.signal, "SIGINT");
      assert.equal(result.sigkilled, false, "no SIGKILL was needed: only a zombie was left");
      assert.equal(readStat(Number(memberText))?.state, "Z", "the member is a zombie in the group that its holder has not reaped");
    } finally {
      if (holderPid > 0) process.kill(holderPid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a client that cancels the stream kills the run", async () => {
    const abort = new AbortController();
    let pid = 0;
    try {
      for await (const event of daemon.client.processMonitor.runMonitored({ command: "sleep", args: ["600"] }, { signal: abort.signal })) {
        if (event.event.case === "started") {
          pid = event.event.value.pid;
          abort.abort();
        }
      }
    } catch (error) {
      assert.equal((error as Error).name, "AbortError");
    }
    assert.ok(pid > 0);
    await waitUntil(() => !isAlive(pid), 10_000, "the cancelled run to be killed");
  });

  test("bad requests are INVALID_ARGUMENT", async () => {
    for (const request of [{ command: "" }, { command: "true", progressPattern: "(" }, { command: "true", killSignal: "SIGNOPE" }] satisfies MessageInitShape<
      typeof RunMonitoredRequestSchema
    >[]) {
      try {
        await runToEnd(request);
        assert.fail(`expected INVALID_ARGUMENT for ${JSON.stringify(request)}`);
      } catch (error) {
        assert.ok(error instanceof ClientError, String(error));
        assert.equal(error.code, Status.INVALID_ARGUMENT);
      }
    }
  });
});
