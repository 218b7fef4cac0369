// End-to-end specification of stdin: WriteStdin / CloseStdin through a real daemon to a real
// program, their FAILED_PRECONDITION cases, and `corral send`.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ClientError, LogStream, ProcessState, StartWait, Status } from "../../client/ts/index.js";
import { startTestDaemon, waitUntil, type TestDaemon } from "../helpers/daemon.js";
import { corral } from "../helpers/cli.js";

// Echoes each stdin line as "got: LINE"; prints "eof" and exits 0 when stdin ends.
const ECHO = [
  process.execPath,
  "-e",
  "let b='';process.stdin.on('data',d=>{b+=d;let i;while((i=b.indexOf('\\n'))>=0){console.log('got: '+b.slice(0,i));b=b.slice(i+1);}});process.stdin.on('end',()=>{console.log('eof');process.exit(0);});",
];

describe("stdin over gRPC", () => {
  let daemon: TestDaemon;
  const pm = () => daemon.client.processManager;
  const goDir = mkdtempSync(join(tmpdir(), "corral-stdin-"));
  const goFile = join(goDir, "go");

  before(async () => {
    daemon = await startTestDaemon({
      programs: {
        echo: { command: ECHO, autostart: false, stdin: true, startsecs: 0, autorestart: "never", stop_timeout: "2s" },
        mute: { command: ["sleep", "30"], autostart: false, startsecs: 0, stop_timeout: "2s" },
        // Reads nothing until the file $GO exists, then counts what stdin held.
        late: {
          command: ["/bin/sh", "-c", 'while [ ! -e "$GO" ]; do sleep 0.05; done; wc -c'],
          env: { GO: goFile },
          autostart: false,
          stdin: true,
          startsecs: 0,
          autorestart: "never",
          stop_timeout: "2s",
        },
      },
    });
  });

  after(async () => {
    await daemon?.stop();
    rmSync(goDir, { recursive: true, force: true });
  });

  async function stdout(name: string): Promise<string> {
    const { chunk } = await pm().readLogs({ name, stream: LogStream.STDOUT });
    return Buffer.from(chunk?.data ?? new Uint8Array()).toString("utf8");
  }

  async function rpcCode(call: Promise<unknown>): Promise<Status> {
    try {
      await call;
    } catch (error) {
      assert.ok(error instanceof ClientError, String(error));
      return error.code;
    }
    assert.fail("the call succeeded; expected an error");
  }

  test("WriteStdin reaches the program; CloseStdin gives it end of file", async () => {
    await pm().startProcess({ name: "echo", wait: StartWait.RUNNING });
    const { bytesWritten } = await pm().writeStdin({ name: "echo", data: new TextEncoder().encode("hello\nworld\n") });
    assert.equal(bytesWritten, 12n);
    await waitUntil(async () => (await stdout("echo")).includes("got: world"), 10_000, "echo to print what it read");
    assert.match(await stdout("echo"), /got: hello\ngot: world\n/);
    await pm().closeStdin({ name: "echo" });
    await waitUntil(async () => (await pm().getProcess({ name: "echo" })).process?.state === ProcessState.EXITED, 10_000, "echo to exit");
    const { process } = await pm().getProcess({ name: "echo" });
    assert.equal(process?.run?.exitCode, 0);
    assert.match(await stdout("echo"), /eof\n$/);
  });

  test("writing to a program without stdin, or not running, is FAILED_PRECONDITION", async () => {
    await pm().startProcess({ name: "mute", wait: StartWait.RUNNING });
    try {
      assert.equal(await rpcCode(pm().writeStdin({ name: "mute", data: new TextEncoder().encode("x") })), Status.FAILED_PRECONDITION);
      assert.equal(await rpcCode(pm().closeStdin({ name: "mute" })), Status.FAILED_PRECONDITION);
    } finally {
      await pm().stopProcess({ name: "mute" });
    }
    // echo exited in the previous test (or was never started): not running.
    await pm().stopProcess({ name: "echo" });
    assert.equal(await rpcCode(pm().writeStdin({ name: "echo", data: new TextEncoder().encode("x") })), Status.FAILED_PRECONDITION);
    assert.equal(await rpcCode(pm().writeStdin({ name: "nope", data: new Uint8Array() })), Status.NOT_FOUND);
  });

  test("after CloseStdin, further writes are FAILED_PRECONDITION", async () => {
    const { process: started } = await pm().startProcess({ name: "echo", wait: StartWait.RUNNING });
    assert.equal(started?.state, ProcessState.RUNNING);
    await pm().closeStdin({ name: "echo" });
    const code = await rpcCode(pm().writeStdin({ name: "echo", data: new TextEncoder().encode("late\n") }));
    assert.equal(code, Status.FAILED_PRECONDITION);
    await waitUntil(async () => (await pm().getProcess({ name: "echo" })).process?.state === ProcessState.EXITED, 10_000, "echo to exit");
  });

  test("a program that does not read: WriteStdin beyond 1 MiB waiting fails RESOURCE_EXHAUSTED and queues nothing of that call", async () => {
    await pm().startProcess({ name: "late", wait: StartWait.RUNNING });
    const piece = new Uint8Array(256 * 1024).fill(0x61);
    // Eight writes at once; none can finish while the program does not read.
    const calls = Array.from({ length: 8 }, () => pm().writeStdin({ name: "late", data: piece }));
    const outcomes = calls.map((call) =>
      call.then(
        () => "ok" as const,
        (error: unknown) => error,
      ),
    );
    const refused: ClientError[] = [];
    await waitUntil(
      async () => {
        const settled = await Promise.all(outcomes.map((o) => Promise.race([o, Promise.resolve("pending" as const)])));
        refused.splice(0, refused.length, ...settled.filter((o): o is ClientError => o instanceof ClientError));
        return refused.length > 0;
      },
      10_000,
      "a write refused while the program does not read",
    );
    for (const error of refused) {
      assert.equal(error.code, Status.RESOURCE_EXHAUSTED, error.details);
      assert.match(error.details, /late: stdin buffer full: .*at most 1048576 bytes may wait \(nothing of this write was queued/);
    }
    writeFileSync(goFile, "");
    const results = await Promise.all(outcomes);
    const accepted = results.filter((r) => r === "ok").length;
    assert.equal(accepted + results.filter((r) => r instanceof ClientError && r.code === Status.RESOURCE_EXHAUSTED).length, 8);
    assert.ok(accepted >= 4 && accepted < 8, `${accepted} of 8 writes of 256 KiB accepted`);
    await pm().closeStdin({ name: "late" });
    await waitUntil(async () => (await pm().getProcess({ name: "late" })).process?.state === ProcessState.EXITED, 10_000, "late to exit");
    assert.equal((await stdout("late")).trim(), String(accepted * piece.length), "the program read exactly the accepted writes");
  });

  test("`corral send NAME TEXT` writes a line; --close ends stdin", async () => {
    await pm().startProcess({ name: "echo", wait: StartWait.RUNNING });
    const before = (await stdout("echo")).length;
    const run = (args: string[]) => corral(args, daemon.address);
    const sent = await run(["send", "echo", "from the cli"]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /echo: sent 13 byte\(s\)/);
    await waitUntil(async () => (await stdout("echo")).slice(before).includes("got: from the cli"), 10_000, "echo to print the CLI's line");
    const closed = await run(["send", "echo", "--close"]);
    assert.equal(closed.code, 0, closed.stderr);
    await waitUntil(async () => (await pm().getProcess({ name: "echo" })).process?.state === ProcessState.EXITED, 10_000, "echo to exit");
    const refused = await run(["send", "mute", "x"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /mute/);
  });
});
