// A real browser for the dashboard tests and bench: Debian's chromium (or chromium-headless-shell),
// driven by playwright-core through its executable path (no browser is downloaded). Screenshots go
// under dist/test-output/, where the test output lives.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { repoRoot } from "./daemon.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-headless-shell", "/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-browser"];

/** The browser executable ($CORRAL_CHROMIUM, else Debian's), or undefined. */
export function chromiumPath(): string | undefined {
  const given = process.env.CORRAL_CHROMIUM;
  if (given) return given;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Why a browser test cannot run here, or false (npm test installs chromium: scripts/install-system-tools.sh). */
export function browserMissing(): string | false {
  return chromiumPath() === undefined ? "no chromium found (apt-get install --no-install-recommends chromium, or set CORRAL_CHROMIUM)" : false;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(String(browserMissing()));
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** dist/test-output/NAME/, created. */
export async function testOutputDir(name: string): Promise<string> {
  const dir = join(repoRoot, "dist/test-output", name);
  await mkdir(dir, { recursive: true });
  return dir;
}
