// The daemon's V8 young generation kept at its initial size, for the daemon's resident memory
// (issue 19's goal), and for the runs Node's spawn still forks (stdin, custom streams, user:; the
// others are the spawner's, os/spawner.ts): Node forks the whole daemon for each, and a fork (and
// each write to a page the fork made copy-on-write) costs in proportion to the daemon's resident
// memory (issue 19: 43 MB resident gave 2.7 ms per spawn, 123 MB 11.8 ms). V8 grows the young generation to 32 MB (16 MB semi-spaces) as soon as start-up
// allocates a lot, and keeps it: 20-30 MB resident for a daemon whose live heap is ~25 MB. With a
// growth factor of 1 it stays at its initial 1 MB semi-spaces; scavenges are more frequent but each
// is short, as the daemon's young objects die young (requests, events). `--max-semi-space-size`
// would say the same, but V8 reads it only when the heap is created (command line only), so this
// runs first, before the daemon's modules are loaded.
import { setFlagsFromString } from "node:v8";

const keepYoungGenerationSmall = () => setFlagsFromString("--semi-space-growth-factor=1");

keepYoungGenerationSmall();
// V8 raises the (process-wide) factor back to 2 when it sets up any new isolate: after each
// worker thread (config parsing, task types) has its own, the daemon's is set again.
process.on("worker", (worker) => worker.once("online", keepYoungGenerationSmall));
