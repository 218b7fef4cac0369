// Limits the platform puts on values the core takes, checked where those values come in.

/** setTimeout fires at once for longer delays, so no duration (config or wire) may exceed this. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** The daemon's default caps on concurrent server streams, server.streams (README: "Bounded streams"). */
export const DEFAULT_STREAM_LIMITS = { maxPerConnection: 256, maxTotal: 1024 } as const;
