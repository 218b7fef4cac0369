// Executable entry of the daemon (`node dist/server/daemon-entry.js [--home DIR] [--config FILE]`):
// what tests spawn, without going through the CLI.
import { runServer } from "./main.js";

await runServer(process.argv.slice(2));
