// The config keys of containment: limits {memory, cpu, pids}, max_memory, user/uid/gid, as the
// core gets them (bytes, cores, ids as written), and the rules a bad value breaks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, parseConfig } from "../../server/config/load.js";

const parse = (program: string) => parseConfig(`programs:\n  a:\n    command: sleep 1\n${program}`, { file: "t.yaml", baseDir: "/tmp" });

function problems(program: string): string[] {
  try {
    parse(program);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.field}: ${p.rule}`);
    throw error;
  }
  return [];
}

test("limits, max_memory and user come to the core in bytes, cores and names as written", () => {
  const [a] = parse("    limits: {memory: 512MiB, cpu: 1.5, pids: 200}\n    max_memory: 300MiB\n    user: nobody\n    gid: nogroup\n").programs;
  assert.deepEqual(a?.limits, { memoryBytes: 512 * 2 ** 20, cpuCores: 1.5, pids: 200 });
  assert.equal(a?.maxMemoryBytes, 300 * 2 ** 20);
  assert.deepEqual(a?.runAs, { user: "nobody", group: "nogroup" });
  const [b] = parse("    uid: 65534\n").programs;
  assert.deepEqual(b?.runAs, { user: "65534", key: "uid" }, "gaffer's uid, remembered as the key to name in problems");
  const [c] = parse("").programs;
  assert.equal(c?.limits, undefined);
  assert.equal(c?.runAs, undefined);
});

test("bad limits, max_memory and users are refused with the field and the rule", () => {
  assert.deepEqual(problems("    limits: {memory: 0, cpu: 0, pids: 0, swap: 1}\n"), [
    "programs.a.limits.memory: must be more than 0 (leave limits.memory out for no limit)",
    "programs.a.limits.cpu: must be at least 0.01 (cores)",
    "programs.a.limits.pids: must be >= 1",
    "programs.a.limits.swap: unknown key (allowed: memory, cpu, pids)",
  ]);
  assert.match(problems("    max_memory: lots\n")[0] ?? "", /^programs\.a\.max_memory: bad size "lots"/);
  assert.deepEqual(problems("    user: root\n    uid: 0\n"), ["programs.a.uid: give user or uid, not both (they say the same thing)"]);
  assert.deepEqual(problems("    gid: 0\n"), ["programs.a.gid: needs user (or uid): the group of which user?"]);
  assert.deepEqual(problems('    user: "two words"\n'), ['programs.a.user: expected a user name or a numeric id (0-4294967294), got "two words"']);
});
