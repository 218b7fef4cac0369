// `node dist/test/helpers/serve-connection-scene.js DIR`: makes the connection scene in DIR
// (connection-scene.ts), prints it as one JSON line, and stops its daemons when stdin closes,
// so the Python and Go client tests check the same cases against the same daemons as the TS tests.
import { startConnectionScene } from "./connection-scene.js";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: serve-connection-scene.js DIR");
  process.exit(2);
}
const scene = await startConnectionScene(dir);
process.stdout.write(`${JSON.stringify({ cases: scene.cases, good: scene.good })}\n`);
process.stdin.resume();
await new Promise<void>((resolve) => process.stdin.once("end", resolve));
await scene.stop();
