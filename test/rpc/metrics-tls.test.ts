// /metrics under the TCP listeners' rules: HTTPS when server.tls is set, a token (any role; a
// viewer's is enough) for every scrape when server.auth is set, and metrics.listen beyond
// loopback accepted only with both. Scraped over real HTTPS with the test CA.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError, parseConfig } from "../../server/config/index.js";
import { metricsUrl, startTestDaemon, type TestDaemon } from "../helpers/daemon.js";
import { makeTestPki, type TestPki } from "../helpers/pki.js";

interface Scrape {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe("metrics over HTTPS with a viewer token", () => {
  let dir: string;
  let pki: TestPki;
  let daemon: TestDaemon;
  let url: string;
  let ca: Buffer;
  const viewerToken = randomBytes(24).toString("hex");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-metrics-tls-"));
    pki = await makeTestPki(dir);
    ca = await readFile(pki.ca);
    await writeFile(join(dir, "prometheus.token"), `${viewerToken}\n`, { mode: 0o600 });
    const config = {
      metrics: { listen: "127.0.0.1:0" },
      server: {
        tls: { cert: pki.server.cert, key: pki.server.key },
        auth: { tokens: [{ name: "prometheus", file: join(dir, "prometheus.token"), role: "viewer" }] },
      },
      programs: { one: { command: ["sleep", "600"], startsecs: "0s", stop_timeout: "2s" } },
    };
    daemon = await startTestDaemon({ configYaml: JSON.stringify(config) });
    url = await metricsUrl(daemon);
  });

  after(async () => {
    await daemon?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function scrape(headers: Record<string, string> = {}): Promise<Scrape> {
    return new Promise((resolve, reject) => {
      httpsRequest(url, { ca, headers }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      })
        .on("error", reject)
        .end();
    });
  }

  test("the daemon announces an https URL, and a scrape with the viewer's token gets the metrics", async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const { status, headers, body } = await scrape({ authorization: `Bearer ${viewerToken}` });
    assert.equal(status, 200);
    assert.equal(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    assert.match(body, /^corral_build_info\{/m);
    assert.match(body, /^corral_program_up\{program="one"/m);
  });

  test("a scrape without a token, or with a wrong one, is refused with 401 and no metrics", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${randomBytes(24).toString("hex")}` }, { authorization: "Basic abc" }];
    for (const headers of attempts) {
      const { status, headers: answer, body } = await scrape(headers);
      assert.equal(status, 401, JSON.stringify(headers));
      assert.equal(answer["www-authenticate"], 'Bearer realm="corral"');
      assert.doesNotMatch(body, /corral_/);
    }
  });

  test("plain HTTP is not served on the metrics port", async () => {
    await assert.rejects(
      new Promise((resolve, reject) =>
        httpRequest(url.replace("https:", "http:"), { headers: { authorization: `Bearer ${viewerToken}` } }, (response) => resolve(response.statusCode))
          .on("error", reject)
          .end(),
      ),
    );
  });
});

describe("metrics.listen beyond loopback", () => {
  const parse = (config: object) => parseConfig(JSON.stringify(config), { file: "corral.yaml", baseDir: "/etc/corral" });
  const secured = { tls: { cert: "server.pem", key: "server.key" }, auth: { tokens: [{ name: "prometheus", file: "prometheus.token", role: "viewer" }] } };

  test("is accepted with server.tls and server.auth", () => {
    assert.equal(parse({ server: secured, metrics: { listen: "0.0.0.0:9464" } }).metrics?.listen, "0.0.0.0:9464");
  });

  test("is refused without them, naming the field and the rule", () => {
    for (const server of [{}, { tls: secured.tls }, { auth: secured.auth }]) {
      assert.throws(
        () => parse({ server, metrics: { listen: "0.0.0.0:9464" } }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.some((p) => p.field === "metrics.listen" && /needs TLS \(server\.tls\) and authentication/.test(p.rule)),
      );
    }
  });
});
