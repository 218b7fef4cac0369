// Who is calling over TCP: a bearer token (compared in constant time, by SHA-256 digest so
// lengths do not leak either) or a verified client certificate whose subject is mapped to a role.
// Token values are read from their files once and kept only as digests.
import { createHash, timingSafeEqual } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { hasAuthMethods, type AuthConfig, type Role } from "../core/access.js";
import { InvalidArgumentError, UnauthenticatedError } from "../core/errors.js";
import type { CertificateSubject } from "./peer-certificate.interceptor.js";

/** Short tokens can be guessed; 16 characters of a random string is the least we take. */
const MIN_TOKEN_LENGTH = 16;

export interface Identity {
  /** For the audit log: the token's NAME or the certificate subject, never a secret. */
  name: string;
  kind: "token" | "certificate" | "local-socket" | "anonymous";
  role: Role;
}

export interface Credentials {
  /** The `authorization` metadata value, as sent. */
  authorization?: string;
  subject?: CertificateSubject;
}

export interface Authenticator {
  /** The caller's identity, or an UnauthenticatedError saying what is missing or wrong (never echoing a token). */
  identify(credentials: Credentials): Identity;
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** "CN=alice, O=lab" -> [["CN","alice"],["O","lab"]] */
function subjectPairs(subject: string): [string, string][] {
  return subject.split(",").map((part) => {
    const eq = part.indexOf("=");
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
}

/**
 * Every attribute the config names must be in the certificate's subject with exactly the values
 * given: a certificate that repeats an attribute (CN=mallory and CN=alice) matches only an entry
 * that names all of its values, so an extra CN cannot borrow another subject's role.
 */
function subjectMatches(wanted: [string, string][], actual: CertificateSubject): boolean {
  const byAttribute = new Map<string, string[]>();
  for (const [attribute, value] of wanted) byAttribute.set(attribute, [...(byAttribute.get(attribute) ?? []), value]);
  return [...byAttribute].every(([attribute, values]) => {
    const present = actual[attribute];
    const got = present === undefined ? [] : Array.isArray(present) ? present : [present];
    return got.length === values.length && [...got].sort().every((value, index) => value === [...values].sort()[index]);
  });
}

function formatSubject(subject: CertificateSubject): string {
  return Object.entries(subject)
    .flatMap(([attribute, value]) => (Array.isArray(value) ? value : [value]).map((one) => `${attribute}=${one}`))
    .join(",");
}

async function readToken(file: string, field: string, warn: (line: string) => void): Promise<string> {
  let text: string;
  let mode: number;
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, "r");
    text = await handle.readFile("utf8");
    mode = (await handle.stat()).mode;
  } catch (error) {
    throw new InvalidArgumentError(field, file, `cannot read the token file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  } finally {
    await handle?.close();
  }
  const token = (text.split(/\r?\n/)[0] ?? "").trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new InvalidArgumentError(
      field,
      file,
      `the token (first line of the file) must have at least ${MIN_TOKEN_LENGTH} characters, e.g. from \`openssl rand -hex 32\``,
    );
  }
  if ((mode & 0o077) !== 0) warn(`corral: WARNING: token file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  return token;
}

/**
 * Without server.auth every TCP caller is an anonymous viewer (read-only), or admin when the
 * config says `server.auth: none` (anonymousRole). With it, every caller must present a known
 * token or a mapped certificate.
 */
export async function createAuthenticator(
  auth: AuthConfig | undefined,
  warn: (line: string) => void = (line) => console.error(line),
  anonymousRole: Role = "viewer",
): Promise<Authenticator> {
  if (auth === undefined || !hasAuthMethods(auth)) {
    return { identify: () => ({ name: "anonymous", kind: "anonymous", role: anonymousRole }) };
  }
  const tokens = await Promise.all(
    auth.tokens.map(async (token, index) => ({
      name: token.name,
      role: token.role,
      digest: digest(await readToken(token.file, `server.auth.tokens[${index}].file`, warn)),
    })),
  );
  const clients = auth.clients.map((client) => ({ subject: subjectPairs(client.subject), role: client.role }));
  return {
    identify(credentials) {
      if (credentials.authorization !== undefined) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(credentials.authorization);
        if (!match) throw new UnauthenticatedError('the authorization metadata must be "Bearer <token>"', "TOKEN_MALFORMED");
        const given = digest(match[1]!);
        // Every token is compared, whichever matches, so timing says nothing about which one or where.
        let found: (typeof tokens)[number] | undefined;
        for (const token of tokens) if (timingSafeEqual(given, token.digest) && found === undefined) found = token;
        if (!found)
          throw new UnauthenticatedError(
            "the bearer token is not valid for this daemon (the token file must hold one of its server.auth.tokens)",
            "TOKEN_INVALID",
          );
        return { name: found.name, kind: "token", role: found.role };
      }
      if (credentials.subject !== undefined) {
        const client = clients.find((candidate) => subjectMatches(candidate.subject, credentials.subject!));
        const name = formatSubject(credentials.subject);
        if (!client)
          throw new UnauthenticatedError(`the client certificate subject "${name}" is not mapped to a role (server.auth.clients)`, "CLIENT_NOT_MAPPED");
        return { name, kind: "certificate", role: client.role };
      }
      throw new UnauthenticatedError("no credentials: present a bearer token (--token-file) or a client certificate (--tls-cert/--tls-key)", "NO_CREDENTIALS");
    },
  };
}
