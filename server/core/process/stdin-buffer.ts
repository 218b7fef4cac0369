// The bound on a program's stdin: bytes WriteStdin accepted that the program has not read yet
// wait in the daemon (the pipe holds 64 KiB more in the kernel). Beyond STDIN_BUFFER_BYTES a
// write is refused whole with RESOURCE_EXHAUSTED, so a program that never reads costs the daemon
// at most that, and a refused call queued nothing (the caller retries once the program has read).
import type { Writable } from "node:stream";
import { ResourceExhaustedError, WrongStateError } from "../errors.js";

/** Bytes accepted for one program's stdin and not yet handed to the pipe. */
export const STDIN_BUFFER_BYTES = 1024 * 1024;

/** Queues data for the pipe if it fits in the bound; resolves once the pipe took it. */
export function writeBounded(stdin: Writable, data: Uint8Array, program: string, limit = STDIN_BUFFER_BYTES): Promise<void> {
  const waiting = stdin.writableLength;
  if (waiting + data.byteLength > limit) {
    throw new ResourceExhaustedError(
      `${program}: stdin buffer full: ${waiting} bytes wait for the program to read them and this write has ${data.byteLength}; ` +
        `at most ${limit} bytes may wait (nothing of this write was queued: send it again once the program has read)`,
      "ENOBUFS",
      `stdin of ${program}`,
    );
  }
  return new Promise<void>((resolve, reject) => {
    stdin.write(data, (error) => (error ? reject(new WrongStateError(`${program}: writing to stdin failed: ${error.message}`)) : resolve()));
  });
}
