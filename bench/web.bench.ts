// The web dashboard in a real browser (Debian's chromium via playwright-core): page-load time
// (navigation to the program list drawn, as the page measures it with performance.now()) and
// live-update latency (a program's state change, from the event's journal time to the page's
// table showing it), against a daemon with PROGRAMS sleeping programs.
// `npm run bench:web` (or `node dist/bench/web.bench.js [PROGRAMS] [LOADS] [CHANGES]` after a build)
import { StartWait, StopWait } from "../client/ts/index.js";
import { launchBrowser } from "../test/helpers/browser.js";
import { startTestDaemon, waitUntil, webUrl } from "../test/helpers/daemon.js";
import { quantile } from "./quantile.js";

const PROGRAMS = Number(process.argv[2] ?? 100);
const LOADS = Number(process.argv[3] ?? 10);
const CHANGES = Number(process.argv[4] ?? 50);

declare const document: { querySelector(selector: string): unknown };
declare const window: { corralDashboard: { readyMs: number; latencies: number[] } };

const programs = Object.fromEntries(
  Array.from({ length: PROGRAMS }, (_, i) => [`p${String(i).padStart(3, "0")}`, { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" }]),
);
const daemon = await startTestDaemon({ configYaml: JSON.stringify({ web: { listen: "127.0.0.1:0" }, programs }) });
const browser = await launchBrowser();
try {
  const url = await webUrl(daemon);
  const pm = daemon.client.processManager;
  await waitUntil(async () => (await pm.listProcesses({})).processes.every((p) => p.run?.pid), 60_000, "every program running");

  const loads: number[] = [];
  for (let i = 0; i < LOADS + 1; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]");
    // The first load warms the daemon's and the browser's caches: not counted.
    if (i > 0) loads.push(await page.evaluate(() => window.corralDashboard.readyMs));
    await context.close();
  }

  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  const target = "p000";
  for (let i = 0; i < CHANGES; i++) {
    const stopping = i % 2 === 0;
    if (stopping) await pm.stopProcess({ name: target, wait: StopWait.STOPPED });
    else await pm.startProcess({ name: target, wait: StartWait.RUNNING });
    const want = stopping ? "STOPPED" : "RUNNING";
    await page.waitForFunction((state) => document.querySelector(`tr[data-program="p000"][data-state="${state}"]`) !== null, want);
  }
  const latencies = (await page.evaluate(() => window.corralDashboard.latencies)).slice(-CHANGES * 3);
  const row = (label: string, values: number[]) =>
    `| ${label} | ${values.length} | ${quantile(values, 0.5).toFixed(1)} | ${quantile(values, 0.95).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`;
  console.log(
    [
      `web dashboard, ${PROGRAMS} programs, chromium headless (ms)`,
      "| figure | n | p50 | p95 | max |",
      "|---|---|---|---|---|",
      row("page load: navigation to the program list drawn", loads),
      row("live update: state change event to the page's table", latencies),
    ].join("\n"),
  );
} finally {
  await browser.close();
  await daemon.stop();
}
