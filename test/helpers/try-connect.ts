// `node dist/test/helpers/try-connect.js '<SceneCase JSON>'`: one GetServerInfo call with the
// TS client as the case says, printing {code, details, connectionProblem, reason} as JSON. The
// connection tests run it as another user (uid 65534) for the socket-permission case.
import { connect, errorDetails, Status, type CorralClientError } from "../../client/ts/index.js";
import type { SceneCase } from "./connection-scene.js";

const scene = JSON.parse(process.argv[2] ?? "{}") as SceneCase;
const client = connect({ address: scene.address, ...(scene.tls ? { tls: scene.tls } : {}), ...(scene.token ? { token: scene.token } : {}) });
try {
  await client.processManager.getServerInfo({}, { deadline: 20_000 });
  process.stdout.write(`${JSON.stringify({ code: "OK" })}\n`);
} catch (error) {
  const e = error as CorralClientError;
  process.stdout.write(
    `${JSON.stringify({ code: Status[e.code], details: e.details, connectionProblem: e.connectionProblem, reason: errorDetails(e).reason })}\n`,
  );
} finally {
  client.close();
}
