// The built-in example `corral server` runs when given no config: a few programs that need
// nothing but node and /bin/sh, so one command shows every state a program can go through.
import type { CorralConfig } from "./load.js";
import { parseConfig } from "./load.js";

// JSON string syntax is valid YAML double-quoted syntax, so any node path is quoted safely.
const NODE = JSON.stringify(process.execPath);

export const EXAMPLE_CONFIG_YAML = `# corral's built-in example. Save it as corral.yaml, edit it, and run
#   corral server --config corral.yaml
programs:
  ticker:
    description: Prints a timestamped line every second
    command: |
      i=0
      while true; do
        i=$((i + 1))
        echo "$(date '+%Y-%m-%d %H:%M:%S') $GREETING #$i"
        sleep 1
      done
    env: {GREETING: tick}
    labels: {group: demo}

  web:
    description: A tiny HTTP server on a free loopback port; it logs the port and each request
    command:
      - ${NODE}
      - -e
      - |
        const http = require("node:http");
        const server = http.createServer((req, res) => {
          console.log(new Date().toISOString() + " " + req.method + " " + req.url);
          res.end("hello from corral's example web program\\n");
        });
        server.listen(0, "127.0.0.1", () => {
          const url = "http://127.0.0.1:" + server.address().port + "/";
          console.log("listening on " + url);
          // Calls itself now and then, so its log shows traffic with nobody sending any.
          setInterval(() => fetch(url + "ping").catch(() => {}), 5000);
        });
        process.on("SIGTERM", () => {
          console.log("got SIGTERM, shutting down");
          process.exit(0);
        });
    stop_timeout: 5s
    labels: {group: demo, tier: frontend}

  flaky:
    description: Fails 3s after each start; restarted with growing backoff, FATAL after 5 restarts in 2m
    command: |
      echo "starting at $(date '+%H:%M:%S')"
      sleep 3
      echo "something went wrong, exiting with code 1" >&2
      exit 1
    autorestart: on-failure
    backoff: {initial: 1s, max: 10s, multiplier: 2}
    max_restarts: 5
    restart_window: 2m
    labels: {group: demo}

  batch:
    description: A one-shot job, not started with the others; start it by hand
    command: |
      for step in 1 2 3; do
        echo "batch step $step of 3"
        sleep 1
      done
      echo "batch done"
    autostart: false
    autorestart: never
    startsecs: 0
    labels: {group: demo}
`;

export function builtinExampleConfig(baseDir: string): CorralConfig {
  return parseConfig(EXAMPLE_CONFIG_YAML, { file: "<built-in example>", baseDir });
}
