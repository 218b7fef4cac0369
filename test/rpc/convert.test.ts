// The wire mapping on its own: durations, enums, events and listen addresses, without a daemon.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import { EventSchema, ProcessState, StartWait } from "../../client/ts/index.js";
import { InvalidArgumentError } from "../../server/core/errors.js";
import { durationToMs, msToDuration, startWaitFromProto, stateFromProto, stateToProto } from "../../server/rpc/convert.js";
import { eventToProto } from "../../server/rpc/event-to-proto.js";
import { toServerError } from "../../server/rpc/errors.js";
import { checkListenerSecurity, parseListenAddress } from "../../server/rpc/server.js";
import { NotFoundError, TimeoutError, WrongStateError } from "../../server/core/errors.js";
import { Status } from "nice-grpc";

test("fractional milliseconds become whole nanoseconds (uptimes come from a monotonic clock)", () => {
  const duration = msToDuration(1520.24488);
  assert.equal(duration.seconds, 1n);
  assert.equal(duration.nanos, 520_244_880);
  assert.equal(durationToMs(msToDuration(250), "timeout"), 250);
  assert.equal(durationToMs(undefined, "timeout"), undefined);
});

test("a negative duration is INVALID_ARGUMENT naming the field", () => {
  assert.throws(
    () => durationToMs(msToDuration(-5), "timeout"),
    (error: unknown) => error instanceof InvalidArgumentError && error.field === "timeout",
  );
});

test("enum values outside the proto's range are refused, naming the field", () => {
  assert.equal(startWaitFromProto(StartWait.UNSPECIFIED), "running");
  assert.equal(startWaitFromProto(StartWait.READY), "ready");
  assert.throws(() => startWaitFromProto(7 as StartWait), /invalid wait=7/);
  for (const state of ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"] as const) {
    assert.equal(ProcessState[stateToProto(state)], state);
    assert.equal(stateFromProto(stateToProto(state)), state);
  }
  assert.throws(() => stateFromProto(ProcessState.UNSPECIFIED), InvalidArgumentError);
});

test("every journal event kind maps to its oneof case and serializes", () => {
  const time = new Date();
  const details = [
    { kind: "stateChanged", from: "STARTING", to: "RUNNING", reason: "up 1s" },
    { kind: "processStarted", pid: 10, pidStartTicks: 1234 },
    { kind: "processExited", pid: 10, exitCode: 3, expected: false, uptimeMs: 12.5, reason: "exited with code 3 (unexpected)", stderrTail: ["boom"] },
    { kind: "spawnFailed", path: "/nope", errno: "ENOENT", message: "no such file" },
    { kind: "server", message: "started" },
  ] as const;
  for (const [i, detail] of details.entries()) {
    const event = eventToProto({ seq: i + 1, time, program: "p", runId: 2, detail });
    assert.equal(event.detail.case, detail.kind);
    assert.equal(event.seq, BigInt(i + 1));
    assert.ok(toBinary(EventSchema, event).length > 0);
  }
  const exited = eventToProto({ seq: 1, time, program: "p", runId: 2, detail: details[2] });
  assert.equal(exited.detail.case === "processExited" && exited.detail.value.exitCode, 3);
  assert.deepEqual(exited.detail.case === "processExited" && [exited.detail.value.reason, exited.detail.value.stderrTail], [
    "exited with code 3 (unexpected)",
    ["boom"],
  ]);
});

test("core errors map to gRPC status codes in one place", () => {
  assert.equal(toServerError(new NotFoundError("program", "x")).code, Status.NOT_FOUND);
  assert.equal(toServerError(new InvalidArgumentError("name", "", "must not be empty")).code, Status.INVALID_ARGUMENT);
  assert.equal(toServerError(new WrongStateError("already running")).code, Status.FAILED_PRECONDITION);
  assert.equal(toServerError(new TimeoutError("too slow")).code, Status.DEADLINE_EXCEEDED);
  const originalError = console.error;
  console.error = () => {}; // an unexpected error is logged; keep the test output clean
  try {
    const internal = toServerError(new Error("boom"));
    assert.equal(internal.code, Status.INTERNAL);
    assert.equal(internal.details, "boom");
  } finally {
    console.error = originalError;
  }
});

test("TCP listeners beyond loopback need TLS and auth, or an explicit --insecure that warns", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:7070"), { host: "127.0.0.1", port: 7070, loopback: true, address: "127.0.0.1:7070" });
  assert.deepEqual(parseListenAddress("127.1.2.3:0"), { host: "127.1.2.3", port: 0, loopback: true, address: "127.1.2.3:0" });
  assert.equal(parseListenAddress("localhost:7070").loopback, true);
  assert.deepEqual(parseListenAddress("[::1]:7070"), { host: "[::1]", port: 7070, loopback: true, address: "[::1]:7070" });
  const tls = { certPath: "/c.pem", keyPath: "/k.pem", requireClientCert: false };
  const auth = { tokens: [{ name: "ci", file: "/t", role: "viewer" as const }], clients: [] };
  for (const address of ["0.0.0.0:7070", "192.168.1.2:7070", "[::]:7070", "example.com:7070"]) {
    const listener = parseListenAddress(address);
    assert.equal(listener.loopback, false, address);
    const names = (error: unknown) =>
      error instanceof Error && error.message.includes(address) && /TLS/.test(error.message) && /--insecure/.test(error.message);
    assert.throws(() => checkListenerSecurity([listener], {}), names);
    assert.throws(() => checkListenerSecurity([listener], { tls }), names, "TLS without auth is not enough");
    assert.throws(() => checkListenerSecurity([listener], { auth }), names, "auth without TLS is not enough");
    assert.doesNotThrow(() => checkListenerSecurity([listener], { tls, auth }));
    const warnings: string[] = [];
    checkListenerSecurity([listener], { insecure: true, warn: (line) => warnings.push(line) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /WARNING/);
    assert.ok(warnings[0]!.includes(address) && /without TLS or authentication/.test(warnings[0]!), warnings[0]);
  }
  const quiet: string[] = [];
  checkListenerSecurity([parseListenAddress("127.0.0.1:0")], { warn: (line) => quiet.push(line) });
  assert.deepEqual(quiet, [], "loopback without TLS is fine and silent");
  assert.throws(() => parseListenAddress("7070"), /HOST:PORT/);
  assert.throws(() => parseListenAddress("127.0.0.1:70000"), /65535/);
});
