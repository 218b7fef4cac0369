// A program's stdin (stdin: true): writing to and closing the pipe of its current run, refused
// with a reason when there is no such pipe (not configured, no live run, closed).
import type { ChildProcess } from "node:child_process";
import { WrongStateError } from "../errors.js";
import type { Program } from "./program.js";
import { writeBounded } from "./stdin-buffer.js";

/** Writes to the current run's stdin (bounded: stdin-buffer.ts); resolves once the bytes were handed to the pipe. */
export async function writeStdin(program: Program, data: Uint8Array): Promise<number> {
  await writeBounded(openStdin(program), data, program.name);
  return data.byteLength;
}

/** Closes the current run's stdin: the program reads end of file. */
export async function closeStdin(program: Program): Promise<void> {
  const stdin = openStdin(program);
  await new Promise<void>((resolve) => stdin.end(resolve));
}

function openStdin(program: Program): NonNullable<ChildProcess["stdin"]> {
  if (!program.config.stdin) throw new WrongStateError(`${program.name} has no stdin: set stdin: true in its config`);
  const run = program.run;
  const stdin = run?.child?.stdin;
  if (!stdin || run?.exitedAt || !(program.state === "STARTING" || program.state === "RUNNING")) {
    throw new WrongStateError(`${program.name} is ${program.state}: no running process to write to`);
  }
  if (stdin.writableEnded || stdin.destroyed) throw new WrongStateError(`${program.name}: stdin of pid ${run?.pid} was closed`);
  return stdin;
}
