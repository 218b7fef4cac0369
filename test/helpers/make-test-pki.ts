// `node dist/test/helpers/make-test-pki.js DIR`: makes the test PKI in DIR and prints its file
// paths as JSON, so the Python and Go client tests use the same certificates as the TS tests.
import { makeTestPki } from "./pki.js";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: make-test-pki.js DIR");
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await makeTestPki(dir))}\n`);
