// Specification of gaffer's redirect_output, custom_streams and detach in the config: what they
// turn into, and the rules a user is told about, each at its own field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfig } from "../../server/config/index.js";
import type { ConfigProblem } from "../../server/config/index.js";
import { customStreamFds, MAX_CUSTOM_STREAMS, resolveStreamName, streamLabel } from "../../server/core/process/stream-names.js";

const options = { file: "corral.yaml", baseDir: "/srv/app" };

function problemsOf(programYaml: string): ConfigProblem[] {
  try {
    parseConfig(`programs:\n  p:\n    command: [x]\n${programYaml}`, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail("config was accepted but should have been rejected");
}

test("redirect_output labels stdout and stderr; custom_streams get fds 3, 4, ... and CORRAL_STREAM_<NAME>; detach is kept", () => {
  const [p] = parseConfig(
    "programs:\n  p:\n    command: [x]\n    redirect_output: [out, err]\n    custom_streams: [progress, metrics]\n    detach: true\n",
    options,
  ).programs;
  assert.deepEqual(p.redirectOutput, ["out", "err"]);
  assert.equal(p.detach, true);
  assert.equal(streamLabel(p, "stdout"), "out");
  assert.equal(streamLabel(p, "stderr"), "err");
  assert.equal(streamLabel(p, "progress"), "progress");
  assert.deepEqual(customStreamFds(p), [
    { name: "progress", fd: 3, env: "CORRAL_STREAM_PROGRESS" },
    { name: "metrics", fd: 4, env: "CORRAL_STREAM_METRICS" },
  ]);
  // A label, the standard name and a custom stream's name each select their stream.
  assert.equal(resolveStreamName(p, "out", "stream_name"), "stdout");
  assert.equal(resolveStreamName(p, "stdout", "stream_name"), "stdout");
  assert.equal(resolveStreamName(p, "err", "stream_name"), "stderr");
  assert.equal(resolveStreamName(p, "metrics", "stream_name"), "metrics");
  assert.throws(
    () => resolveStreamName(p, "nope", "stream_name"),
    /invalid stream_name="nope": is not a stream of p; its streams are out \(stdout\), err \(stderr\), progress, metrics/,
  );
});

test("without the keys: no labels, no custom streams, not detached", () => {
  const [p] = parseConfig("programs:\n  p:\n    command: [x]\n", options).programs;
  assert.equal(p.redirectOutput, undefined);
  assert.equal(p.customStreams, undefined);
  assert.equal(p.detach, undefined);
  assert.equal(streamLabel(p, "stdout"), "stdout");
  assert.deepEqual(customStreamFds(p), []);
  // One label only names stdout; stderr keeps its name.
  const [q] = parseConfig("programs:\n  q:\n    command: [x]\n    redirect_output: [a]\n", options).programs;
  assert.equal(streamLabel(q, "stdout"), "a");
  assert.equal(streamLabel(q, "stderr"), "stderr");
});

test("stream names that are bad, reserved, taken twice or too many are refused at their own field", () => {
  const at = (yaml: string) => problemsOf(yaml).map((p) => `${p.field}: ${p.rule}`);
  assert.deepEqual(at("    redirect_output: [a, b, c]\n"), ["programs.p.redirect_output: names stdout and stderr: at most 2 labels"]);
  assert.deepEqual(at("    redirect_output: [stderr, out]\n"), ["programs.p.redirect_output[0]: labels stdout; it cannot be called stderr"]);
  assert.deepEqual(at("    redirect_output: [Out]\n"), ["programs.p.redirect_output[0]: must be 1 to 32 of a-z, 0-9 and _, starting with a letter"]);
  assert.deepEqual(at("    custom_streams: [stdout]\n"), ["programs.p.custom_streams[0]: stdout is a standard stream's name"]);
  assert.deepEqual(at("    custom_streams: [../x]\n"), ["programs.p.custom_streams[0]: must be 1 to 32 of a-z, 0-9 and _, starting with a letter"]);
  assert.deepEqual(at("    redirect_output: [out]\n    custom_streams: [out]\n"), ["programs.p.custom_streams[0]: already names stdout"]);
  const many = Array.from({ length: MAX_CUSTOM_STREAMS + 1 }, (_, i) => `s${i}`).join(", ");
  assert.deepEqual(at(`    custom_streams: [${many}]\n`), [
    `programs.p.custom_streams: at most ${MAX_CUSTOM_STREAMS} custom streams (each is an open fd of the child)`,
  ]);
  assert.deepEqual(at("    detach: yes please\n"), ['programs.p.detach: expected true or false, got "yes please"']);
});
