// The web dashboard in a real browser (Debian's chromium through playwright-core) against a real
// daemon on loopback with tokens: the token entered once, a program that starts, a crash loop
// going FATAL, a log line on the page within a second of being written, task settings edited,
// a viewer who sees no buttons, and an operator who stops a program from the page.
// Screenshots go to dist/test-output/web/.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { fromValue, ProcessState, StartWait, toValue } from "../../client/ts/index.js";
import { browserMissing, launchBrowser, testOutputDir } from "../helpers/browser.js";
import { repoRoot, startTestDaemon, waitUntil, webUrl, type TestDaemon } from "../helpers/daemon.js";

const skip = browserMissing();

// The few browser globals the page functions below use: they run in the page (under its CSP, so
// as functions, never strings), and this file is compiled without DOM types.
interface PageNode {
  textContent: string | null;
}
declare const document: { getElementById(id: string): PageNode | null; querySelector(selector: string): PageNode | null };
declare const window: { corralDashboard?: unknown; seenAt?: number };
declare class MutationObserver {
  constructor(callback: (changes: unknown, observer: MutationObserver) => void);
  observe(target: PageNode, options: object): void;
  disconnect(): void;
}

describe("web dashboard in a browser", { skip }, () => {
  let dir: string;
  let daemon: TestDaemon;
  let browser: Browser;
  let url: string;
  let shots: string;
  const tokens = { viewer: randomBytes(24).toString("hex"), operator: randomBytes(24).toString("hex") };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-web-"));
    shots = await testOutputDir("web");
    for (const [role, token] of Object.entries(tokens)) await writeFile(join(dir, `${role}.token`), `${token}\n`, { mode: 0o600 });
    const config = {
      web: { listen: "127.0.0.1:0" },
      server: {
        auth: {
          tokens: [
            { name: "vera", file: join(dir, "viewer.token"), role: "viewer" },
            { name: "otto", file: join(dir, "operator.token"), role: "operator" },
          ],
        },
      },
      tasks: { modules: [join(repoRoot, "dist/test/fixtures/tasks.js")] },
      programs: {
        steady: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" },
        echo: { command: ["cat"], stdin: true, startsecs: "0s", stop_timeout: "2s" },
        late: { command: ["sleep", "600"], autostart: false, startsecs: "0s", stop_timeout: "2s" },
        crashy: {
          command: ["sh", "-c", "echo crashing >&2; exit 3"],
          autostart: false,
          startsecs: "1s",
          startretries: 2,
          backoff: { initial: "50ms", max: "50ms" },
        },
      },
    };
    daemon = await startTestDaemon({ configYaml: JSON.stringify(config) });
    url = await webUrl(daemon);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await daemon?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh browser context (its own sessionStorage), signed in with the token of role. */
  async function signedIn(role: keyof typeof tokens): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on("pageerror", (error) => assert.fail(`the page threw: ${error.message}`));
    await page.goto(url);
    // The daemon asks for a token: the page shows the form, once.
    await page.waitForSelector("#login #token");
    await page.fill("#token", tokens[role]);
    await page.click("#login button[type=submit]");
    await page.waitForSelector("body[data-ready=true]");
    assert.equal(await page.textContent("#who"), `${role === "viewer" ? "vera" : "otto"} (${role})`);
    return page;
  }

  const row = (program: string, state: string) => `tr[data-program="${program}"][data-state="${state}"]`;

  test("an operator sees every program live: one that starts, a crash loop that goes FATAL", async () => {
    const page = await signedIn("operator");
    await page.waitForSelector(row("steady", "RUNNING"));
    await page.waitForSelector(row("late", "STOPPED"));
    // Started from outside the page: the page learns it from the event stream.
    await daemon.client.processManager.startProcess({ name: "late", wait: StartWait.NONE });
    await page.waitForSelector(row("late", "RUNNING"));
    assert.match((await page.textContent(`${row("late", "RUNNING")} td:nth-child(4)`)) ?? "", /^\d+$/, "its pid is shown");
    await daemon.client.processManager.startProcess({ name: "crashy", wait: StartWait.NONE });
    await page.waitForSelector(row("crashy", "FATAL"), { timeout: 20_000 });
    // Restarts, CPU and memory come from GetProcess and WatchStats.
    await page.waitForFunction(() => document.querySelector('tr[data-program="steady"] td.mem')?.textContent?.endsWith("iB") === true);
    await page.screenshot({ path: join(shots, "overview-operator.png"), fullPage: true });
    const probe = (await page.evaluate(() => window.corralDashboard)) as { readyMs: number; latencies: number[] };
    assert.ok(probe.readyMs > 0 && probe.latencies.length > 0, "the page measured its load and its event latencies");
    await page.context().close();
  });

  test("a log line appears on the program's page within a second of being written; the log is searchable", async (t) => {
    const page = await signedIn("operator");
    await page.goto(`${url}#/program/echo`);
    await page.waitForSelector('h2[data-program="echo"][data-state="RUNNING"]');
    // The follow stream is open once the earlier output (none yet) has been asked for: write one line and wait for it.
    await daemon.client.processManager.writeStdin({ name: "echo", data: new TextEncoder().encode("warming up\n") });
    await page.waitForFunction(() => document.getElementById("log")?.textContent?.includes("warming up") === true);
    const marker = `line-${randomBytes(6).toString("hex")}`;
    // Noted by the page itself the moment the line is in the document.
    await page.evaluate((text) => {
      const log = document.getElementById("log")!;
      new MutationObserver((_changes, observer) => {
        if (log.textContent?.includes(text)) {
          window.seenAt = Date.now();
          observer.disconnect();
        }
      }).observe(log, { childList: true, subtree: true, characterData: true });
    }, marker);
    const writtenAt = Date.now();
    await daemon.client.processManager.writeStdin({ name: "echo", data: new TextEncoder().encode(`${marker}\n`) });
    await page.waitForFunction(() => window.seenAt !== undefined);
    const delayMs = ((await page.evaluate(() => window.seenAt)) as number) - writtenAt;
    t.diagnostic(`log line on the page ${delayMs} ms after it was written`);
    assert.ok(delayMs < 1000, `the line appeared after ${delayMs} ms (issue 18: within a second)`);
    await page.fill("#log-search", marker);
    assert.equal(await page.locator("#log .line:not([hidden])").count(), 1, "the search leaves only the matching line");
    assert.match((await page.textContent(".matches")) ?? "", /^1 matching lines$/);
    await page.fill("#log-search", "");
    await page.screenshot({ path: join(shots, "program-log.png"), fullPage: true });
    await page.context().close();
  });

  test("task settings are shown live and an operator edits them from the page", async () => {
    const tr = daemon.client.taskRunner;
    await tr.createTask({ name: "count", type: "counter", args: toValue({ interval_ms: 300 }) });
    await tr.startTask({ name: "count" });
    const page = await signedIn("operator");
    await page.goto(`${url}#/tasks`);
    await page.waitForSelector('tr[data-task="count"][data-state="RUNNING"]');
    // Its status changes with every tick signal.
    await page.waitForFunction(() => /"count":[1-9]/.test(document.querySelector('tr[data-task="count"]')?.textContent ?? ""));
    await page.fill('textarea[data-task="count"]', '{"step": 5}');
    await page.click('button[data-action="set-settings"][data-task="count"]');
    await waitUntil(
      async () => JSON.stringify(fromValue((await tr.getSettings({ name: "count" })).settings)) === '{"step":5}',
      10_000,
      "settings step 5 applied",
    );
    await page.waitForFunction(() => /"step":5/.test(document.querySelector('tr[data-task="count"] td:nth-child(4)')?.textContent ?? ""));
    // The lock and its holder, live (the locked signal): this test's client is on the Unix socket.
    await tr.lock({ name: "count" });
    await page.waitForFunction(() => document.querySelector('tr[data-task="count"] td.lock')?.textContent === "locked by local-socket");
    await tr.forceUnlock({ name: "count" });
    await page.screenshot({ path: join(shots, "tasks-operator.png"), fullPage: true });
    await page.context().close();
    await tr.stopTask({ name: "count" });
  });

  test("a viewer sees the programs, the log and the tasks, and no button or settings editor anywhere", async () => {
    const page = await signedIn("viewer");
    await page.waitForSelector(row("steady", "RUNNING"));
    assert.equal(await page.locator("button[data-action]").count(), 0, "no action buttons on the list");
    await page.screenshot({ path: join(shots, "overview-viewer.png"), fullPage: true });
    await page.goto(`${url}#/program/steady`);
    await page.waitForSelector('h2[data-program="steady"]');
    assert.equal(await page.locator("button[data-action]").count(), 0, "no action buttons on a program's page");
    await page.goto(`${url}#/tasks`);
    await page.waitForSelector("table.tasks");
    assert.equal(await page.locator("textarea, button[data-action]").count(), 0, "no settings editor");
    await page.context().close();
  });

  test("an operator stops a program from the page", async () => {
    const page = await signedIn("operator");
    await page.waitForSelector(row("steady", "RUNNING"));
    await page.click('button[data-action="stop"][data-program="steady"]');
    await page.waitForSelector(row("steady", "STOPPED"));
    const { process } = await daemon.client.processManager.getProcess({ name: "steady" });
    assert.equal(process?.state, ProcessState.STOPPED, "the daemon stopped it");
    await page.screenshot({ path: join(shots, "overview-after-stop.png"), fullPage: true });
    await page.context().close();
  });
});

describe("the fleet view across the hosts of a config", { skip }, () => {
  let near: TestDaemon;
  let far: TestDaemon;
  let browser: Browser;
  let url: string;

  before(async () => {
    far = await startTestDaemon({
      configYaml: JSON.stringify({
        server: { host_name: "far" },
        programs: {
          remote1: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" },
          remote2: { command: ["sleep", "600"], autostart: false, startsecs: "0s", stop_timeout: "2s" },
        },
      }),
    });
    // The near daemon reaches far through far's hosts entry (here its Unix socket), as the CLI does.
    // Every web caller is admin here (auth: none): the fleet view must still not change far.
    near = await startTestDaemon({
      configYaml: JSON.stringify({
        web: { listen: "127.0.0.1:0" },
        server: { host_name: "near", auth: "none" },
        hosts: { near: { address: "unix:/nonexistent/near.sock" }, far: { address: `unix:${far.socketPath}` } },
        programs: { local1: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" } },
      }),
    });
    url = await webUrl(near);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await near?.stop();
    await far?.stop();
  });

  test("every host's programs, live, and the other hosts read-only", async () => {
    const page = await browser.newPage();
    page.on("pageerror", (error) => assert.fail(`the page threw: ${error.message}`));
    await page.goto(`${url}#/fleet`);
    await page.waitForSelector('section[data-host="near"] tr[data-program="local1"][data-state="RUNNING"]');
    await page.waitForSelector('section[data-host="far"] tr[data-program="remote1"][data-state="RUNNING"]');
    await page.waitForSelector('section[data-host="far"] tr[data-program="remote2"][data-state="STOPPED"]');
    // A change on far reaches the page through near (far's WatchEvents, forwarded).
    await far.client.processManager.startProcess({ name: "remote2", wait: StartWait.NONE });
    await page.waitForSelector('section[data-host="far"] tr[data-program="remote2"][data-state="RUNNING"]');
    assert.equal(await page.locator("section button[data-action]").count(), 0, "no buttons in the fleet view");
    await page.screenshot({ path: join(await testOutputDir("web"), "fleet.png"), fullPage: true });
    await page.close();
    // Even an admin of near cannot change far through near.
    const refused = await fetch(`${url}hosts/far/corral.v1.ProcessManager/StopProcess`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "remote1" }),
    });
    assert.equal(refused.status, 403);
    const body = (await refused.json()) as { code: string; message: string };
    assert.equal(body.code, "permission_denied");
    assert.match(body.message, /fleet view is read-only/);
    const { process } = await far.client.processManager.getProcess({ name: "remote1" });
    assert.equal(process?.state, ProcessState.RUNNING);
  });
});
