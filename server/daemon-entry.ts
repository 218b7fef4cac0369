// Executable entry of the daemon (`node dist/server/daemon-entry.js [--home DIR] [--config FILE]`):
// what tests spawn, without going through the CLI.
import "./heap-tuning.js";

// Loaded after the heap is tuned (an import would be evaluated with it, but loaded before).
const { runServer } = await import("./main.js");
await runServer(process.argv.slice(2));
