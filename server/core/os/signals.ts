// Signal names and numbers: "TERM", "SIGTERM" and "15" all mean SIGTERM.
import { constants } from "node:os";
import { InvalidArgumentError } from "../errors.js";

const byNumber = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!byNumber.has(number)) byNumber.set(number, name as NodeJS.Signals);
}

/** The name of a signal number (a wait status's), or null for one Node does not know. */
export function signalName(number: number): NodeJS.Signals | null {
  return byNumber.get(number) ?? null;
}

/** Normalises a signal given by name or number; throws InvalidArgumentError for unknown ones. */
export function parseSignal(value: string | number, field = "signal"): NodeJS.Signals {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) {
    const name = byNumber.get(Number(text));
    if (name) return name;
  } else {
    const upper = text.toUpperCase();
    const name = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as NodeJS.Signals;
    if (name in constants.signals) return name;
  }
  throw new InvalidArgumentError(field, value, "must be a signal name like SIGTERM or TERM, or its number");
}
