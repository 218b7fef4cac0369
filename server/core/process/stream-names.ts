// A program's output streams by name (gaffer's redirect_output and custom_streams): stdout and
// stderr with their labels, and the custom streams, each an extra fd of the child (3, 4, ... in
// config order, named in its environment). One place says which names exist and what they mean.
import { InvalidArgumentError } from "../errors.js";
import type { LogStreamName, ProgramConfig, StdStreamName } from "./types.js";

/** Custom streams a program may have: each is one more open fd in the child and two files on disk. */
export const MAX_CUSTOM_STREAMS = 8;
/** The first custom stream's fd in the child (0, 1, 2 are stdin, stdout, stderr). */
export const FIRST_CUSTOM_FD = 3;
/** Labels and custom stream names: they become file names and environment variable names. */
export const STREAM_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const STREAM_NAME_RULE = "must be 1 to 32 of a-z, 0-9 and _, starting with a letter";
/** Names no custom stream may take: the standard streams are always selectable by them. */
export const RESERVED_STREAM_NAMES: readonly string[] = ["stdin", "stdout", "stderr"];

const STD_STREAMS: readonly StdStreamName[] = ["stdout", "stderr"];

type StreamConfig = Pick<ProgramConfig, "redirectOutput" | "customStreams">;

/** The environment variable that tells the child a custom stream's fd: CORRAL_STREAM_PROGRESS=3. */
export function streamEnvName(name: string): string {
  return `CORRAL_STREAM_${name.toUpperCase()}`;
}

/** Each custom stream with its fd in the child and the variable naming it. */
export function customStreamFds(config: StreamConfig): { name: string; fd: number; env: string }[] {
  return (config.customStreams ?? []).map((name, i) => ({ name, fd: FIRST_CUSTOM_FD + i, env: streamEnvName(name) }));
}

/** The stream's name for users: stdout's / stderr's redirect_output label, else the stream itself. */
export function streamLabel(config: StreamConfig, stream: LogStreamName): string {
  const index = STD_STREAMS.indexOf(stream as StdStreamName);
  return (index >= 0 ? config.redirectOutput?.[index] : undefined) || stream;
}

/** Every stream of the program, stdout and stderr first. */
export function streamsOf(config: StreamConfig): LogStreamName[] {
  return [...STD_STREAMS, ...(config.customStreams ?? [])];
}

/**
 * The stream a user's name selects: "stdout" and "stderr" always, a redirect_output label, or a
 * custom stream's name. Anything else is refused, naming the field and the names that exist.
 */
export function resolveStreamName(config: StreamConfig & { name: string }, name: string, field: string): LogStreamName {
  for (const stream of streamsOf(config)) if (stream === name || streamLabel(config, stream) === name) return stream;
  const known = streamsOf(config).map((stream) => (streamLabel(config, stream) === stream ? stream : `${streamLabel(config, stream)} (${stream})`));
  throw new InvalidArgumentError(field, name, `is not a stream of ${config.name}; its streams are ${known.join(", ")}`);
}

/**
 * The rules for redirect_output and custom_streams together (the config schema reports each
 * broken one at its path): valid names, at most two labels and MAX_CUSTOM_STREAMS streams, and
 * every name selecting one stream only.
 */
export function streamNameProblems(config: StreamConfig): { path: (string | number)[]; value: unknown; message: string }[] {
  const problems: { path: (string | number)[]; value: unknown; message: string }[] = [];
  const labels = config.redirectOutput ?? [];
  const custom = config.customStreams ?? [];
  if (labels.length > 2) problems.push({ path: ["redirect_output"], value: labels, message: "names stdout and stderr: at most 2 labels" });
  if (custom.length > MAX_CUSTOM_STREAMS)
    problems.push({ path: ["custom_streams"], value: custom, message: `at most ${MAX_CUSTOM_STREAMS} custom streams (each is an open fd of the child)` });
  const seen = new Map<string, string>();
  const claim = (name: string, path: (string | number)[], what: string) => {
    if (!STREAM_NAME_PATTERN.test(name)) {
      problems.push({ path, value: name, message: STREAM_NAME_RULE });
      return;
    }
    const before = seen.get(name);
    if (before !== undefined) problems.push({ path, value: name, message: `already names ${before}` });
    else seen.set(name, what);
  };
  labels.slice(0, 2).forEach((label, i) => {
    const own = STD_STREAMS[i];
    const other = STD_STREAMS[1 - i];
    // A label may repeat its own stream's name, never take the other's.
    if (label === other || label === "stdin")
      problems.push({ path: ["redirect_output", i], value: label, message: `labels ${own}; it cannot be called ${label}` });
    else claim(label, ["redirect_output", i], own);
  });
  custom.forEach((name, i) => {
    if (RESERVED_STREAM_NAMES.includes(name)) problems.push({ path: ["custom_streams", i], value: name, message: `${name} is a standard stream's name` });
    else claim(name, ["custom_streams", i], `custom stream ${name}`);
  });
  return problems;
}
