// A corral `exec` task in TypeScript (compiled to dist/examples/tasks/exec_counter.js): counts by
// settings.step every settings.interval_ms, speaking JSON lines on stdio. Run it under corral:
//   corral task create tscount exec --args '{"command": ["node", "dist/examples/tasks/exec_counter.js"]}'
import { createInterface } from "node:readline";

type Settings = { step: number; interval_ms: number };
const settings: Settings = { step: 1, interval_ms: 50 };
let stopping = false;
let wake: (() => void) | undefined;

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const commands = createInterface({ input: process.stdin });
commands
  .on("line", (line) => {
    const message = JSON.parse(line) as { type: string; settings?: Partial<Settings> };
    if (message.type === "start" || message.type === "settings") Object.assign(settings, message.settings ?? {});
    if (message.type === "stop") stopping = true;
    wake?.();
  })
  .on("close", () => {
    stopping = true; // stdin closed: the daemon is gone
    wake?.();
  });

let count = 0;
send({ type: "log", message: "ts counter started" });
while (!stopping) {
  count += settings.step;
  send({ type: "status", status: { count, step: settings.step, language: "typescript" } });
  send({ type: "signal", name: "tick", payload: count });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, settings.interval_ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}
send({ type: "log", message: `stopped at ${count}` });
// An open stdin would keep the process alive; the daemon would then have to kill it.
commands.close();
process.stdin.destroy();
