// The one duration grammar of corral: "500ms", "10s", "1m30s", "2h", "1.5m", or a number of
// seconds (YAML `30`; on the command line the word 30). The config (server/config/values.ts) and the CLI
// (client/cli/args.ts) both parse with it; it imports nothing, which is what lets the CLI load it
// (test/layout.test.ts allows exactly such import-free files).

export const DURATION_HINT = "use e.g. 500ms, 10s, 2m, 1m30s, or a number of seconds";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when the input is not a duration (negative, empty, unknown unit). */
export function durationToMs(input: unknown): number | undefined {
  if (typeof input === "number") {
    // A bare number means seconds, as in supervisord's startsecs.
    return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : undefined;
  }
  if (typeof input !== "string") return undefined;
  const text = input.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) ms += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(ms);
}

/**
 * A command-line word read as the same text unquoted in YAML would be: "30" is the number 30
 * (seconds), "1m30s" a string with units. (A quoted '30' in YAML stays a string and is refused.)
 */
export function durationWordToMs(word: string): number | undefined {
  const text = word.trim();
  return durationToMs(/^\d+(?:\.\d+)?$/.test(text) ? Number(text) : text);
}
