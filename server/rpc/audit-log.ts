// The audit log: one JSON line per denied call and per allowed call that changes something
// (operator and admin methods). It names who (token name or certificate subject), never a secret.
import { createWriteStream, type WriteStream } from "node:fs";

export interface AuditRecord {
  time: string;
  /** The caller's address as gRPC saw it ("ipv4:127.0.0.1:5555", "unix:..."). */
  peer: string;
  /** Token name, certificate subject, "local-socket" or "anonymous"; absent when unknown. */
  identity?: string;
  role?: string;
  method: string;
  outcome: "allowed" | "denied";
  /** Final gRPC status name: OK, PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND, ... */
  code: string;
  /** Why a call was denied. */
  reason?: string;
}

export interface AuditLog {
  readonly path: string;
  write(record: Omit<AuditRecord, "time">): void;
  close(): Promise<void>;
}

export function openAuditLog(path: string): AuditLog {
  // Append-only, owner-only; a stream keeps lines whole and in order without blocking calls.
  const stream: WriteStream = createWriteStream(path, { flags: "a", mode: 0o600 });
  let failed = false;
  stream.on("error", (error) => {
    if (!failed) console.error(`corral: cannot write the audit log ${path}: ${error.message}`);
    failed = true;
  });
  return {
    path,
    write(record) {
      if (!failed) stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
    },
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}
