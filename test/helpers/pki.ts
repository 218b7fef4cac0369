// A throw-away PKI made with the openssl CLI for the TLS tests: a CA, server certificates for
// 127.0.0.1/localhost (good, expired), and client certificates (good, signed by another CA, expired).
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`openssl ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
}

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The CA the daemon trusts for client certificates and the clients trust for the server. */
  ca: string;
  server: CertFiles;
  /** The server's names (127.0.0.1, localhost), signed by the CA, valid only in 2020. */
  expiredServer: CertFiles;
  /** CN=alice, O=corral-test, signed by the CA, valid now. */
  alice: CertFiles;
  /** CN=bob, signed by the CA, valid now (not mapped to any role in the tests). */
  bob: CertFiles;
  /** CN=alice again, but signed by another CA. */
  foreign: CertFiles;
  /** CN=alice, signed by the CA, valid only in 2020. */
  expired: CertFiles;
  /** Two common names, CN=mallory and CN=alice (O=corral-test), signed by the CA. */
  twoNames: CertFiles;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function selfSignedCa(dir: string, name: string): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  await openssl(
    [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      files.key,
      "-out",
      files.cert,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  return files;
}

async function request(dir: string, name: string, subject: string): Promise<{ key: string; csr: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await openssl(["req", "-new", ...EC, "-keyout", key, "-out", csr, "-subj", subject], dir);
  return { key, csr };
}

async function signed(dir: string, ca: CertFiles, name: string, subject: string, extensions: string): Promise<CertFiles> {
  const { key, csr } = await request(dir, name, subject);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  const cert = join(dir, `${name}.pem`);
  await openssl(["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext, "-out", cert], dir);
  return { cert, key };
}

/**
 * `openssl x509 -days` cannot go negative and OpenSSL 3.0 has no -not_after, so the expired
 * certificate is issued by `openssl ca`, which takes explicit start and end dates.
 */
async function expiredCert(dir: string, ca: CertFiles, name: string, subject: string, extensions = "extendedKeyUsage = clientAuth"): Promise<CertFiles> {
  const { key, csr } = await request(dir, name, subject);
  const caDir = join(dir, `ca-db-${name}`);
  await mkdir(join(caDir, "new"), { recursive: true });
  await writeFile(join(caDir, "index.txt"), "");
  await writeFile(join(caDir, "serial"), "1000\n");
  const config = join(caDir, "ca.cnf");
  await writeFile(
    config,
    [
      "[ca]",
      "default_ca = test_ca",
      "[test_ca]",
      `database = ${join(caDir, "index.txt")}`,
      `new_certs_dir = ${join(caDir, "new")}`,
      `serial = ${join(caDir, "serial")}`,
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "x509_extensions = client",
      "[any]",
      "commonName = supplied",
      "organizationName = optional",
      "[client]",
      ...extensions.split("\n"),
      "",
    ].join("\n"),
  );
  const cert = join(dir, `${name}.pem`);
  await openssl(
    [
      "ca",
      "-batch",
      "-notext",
      "-config",
      config,
      "-cert",
      ca.cert,
      "-keyfile",
      ca.key,
      "-in",
      csr,
      "-out",
      cert,
      "-startdate",
      "20200101000000Z",
      "-enddate",
      "20200102000000Z",
    ],
    dir,
  );
  return { cert, key };
}

/** Makes the whole PKI in `dir` (which must exist). Takes a second or two of openssl runs. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const ca = await selfSignedCa(dir, "ca");
  const other = await selfSignedCa(dir, "other-ca");
  const clientExt = "extendedKeyUsage = clientAuth\n";
  return {
    dir,
    ca: ca.cert,
    server: await signed(dir, ca, "server", "/CN=corral-test-server", "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n"),
    alice: await signed(dir, ca, "alice", "/O=corral-test/CN=alice", clientExt),
    bob: await signed(dir, ca, "bob", "/O=corral-test/CN=bob", clientExt),
    foreign: await signed(dir, other, "foreign", "/O=corral-test/CN=alice", clientExt),
    expired: await expiredCert(dir, ca, "expired", "/O=corral-test/CN=alice"),
    expiredServer: await expiredCert(
      dir,
      ca,
      "expired-server",
      "/CN=corral-test-server",
      "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth",
    ),
    twoNames: await signed(dir, ca, "two-names", "/O=corral-test/CN=mallory/CN=alice", clientExt),
  };
}
