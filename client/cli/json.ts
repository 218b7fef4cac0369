// The JSON the CLI prints with --json: one shape per kind of object, the same in every command.
// It is the message's proto JSON (camelCase field names) with the changes that make it easy to
// script: every field present (defaults, empty lists [] and unset ones null), 64-bit integers
// as numbers (seq, offsets, bytes), enums by their short name ("RUNNING", not
// "PROCESS_STATE_RUNNING"), durations as numbers of seconds (to the millisecond), timestamps as RFC 3339 strings.
import type { DescEnum, DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** "RUNNING" for PROCESS_STATE_RUNNING: the value's name without the enum's shared prefix. */
export function enumShortName(desc: DescEnum, value: number): string {
  const entry = desc.value[value];
  if (entry === undefined) return String(value);
  const prefix = desc.sharedPrefix?.toUpperCase() ?? "";
  return entry.name.startsWith(prefix) ? entry.name.slice(prefix.length) : entry.name;
}

function scalarJson(type: ScalarType, value: unknown): Json {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (type === ScalarType.FLOAT || type === ScalarType.DOUBLE) {
    // JSON has no NaN or infinities.
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  }
  return value as Json;
}

interface WktTimestamp {
  seconds: bigint;
  nanos: number;
}

function valueJson(value: unknown): Json {
  // google.protobuf.Value: its oneof `kind` holds the JSON value.
  const kind = (value as { kind?: { case?: string; value?: unknown } }).kind;
  switch (kind?.case) {
    case "nullValue":
    case undefined:
      return null;
    case "structValue":
      return structJson(kind.value);
    case "listValue":
      return ((kind.value as { values: unknown[] }).values ?? []).map(valueJson);
    default:
      return (kind?.value ?? null) as Json;
  }
}

function structJson(struct: unknown): Json {
  const fields = (struct as { fields?: Record<string, unknown> }).fields ?? {};
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, valueJson(value)]));
}

function messageValueJson(desc: DescMessage, value: unknown): Json {
  if (value === undefined || value === null) return null;
  switch (desc.typeName) {
    case "google.protobuf.Timestamp": {
      const t = value as WktTimestamp;
      return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
    }
    case "google.protobuf.Duration": {
      const d = value as WktTimestamp;
      // To the millisecond: 1.455, not 1.4550553640000001.
      return Math.round(Number(d.seconds) * 1000 + d.nanos / 1e6) / 1000;
    }
    case "google.protobuf.Value":
      return valueJson(value);
    case "google.protobuf.Struct":
      return structJson(value);
    default:
      return toCliJson(desc, value as MessageShape<DescMessage>);
  }
}

function fieldJson(field: DescField, value: unknown): Json {
  switch (field.fieldKind) {
    case "scalar":
      return value === undefined ? null : scalarJson(field.scalar, value);
    case "enum":
      return value === undefined ? null : enumShortName(field.enum, value as number);
    case "message":
      return messageValueJson(field.message, value);
    case "list": {
      const items = (value as unknown[] | undefined) ?? [];
      if (field.listKind === "scalar") return items.map((item) => scalarJson(field.scalar, item));
      if (field.listKind === "enum") return items.map((item) => enumShortName(field.enum, item as number));
      return items.map((item) => messageValueJson(field.message, item));
    }
    case "map": {
      const entries = Object.entries((value as Record<string, unknown> | undefined) ?? {});
      if (field.mapKind === "scalar") return Object.fromEntries(entries.map(([k, v]) => [k, scalarJson(field.scalar, v)]));
      if (field.mapKind === "enum") return Object.fromEntries(entries.map(([k, v]) => [k, enumShortName(field.enum, v as number)]));
      return Object.fromEntries(entries.map(([k, v]) => [k, messageValueJson(field.message, v)]));
    }
  }
}

/** A message as the CLI's JSON object (see the top of this file). */
export function toCliJson<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>): { [key: string]: Json } {
  const raw = message as unknown as Record<string, unknown>;
  const out: { [key: string]: Json } = {};
  for (const field of desc.fields) {
    if (field.oneof) {
      // Only the member that is set, under its own name (as proto JSON has it).
      const oneof = raw[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
      if (oneof?.case === field.localName) out[field.jsonName] = fieldJson(field, oneof.value);
      continue;
    }
    out[field.jsonName] = fieldJson(field, raw[field.localName]);
  }
  return out;
}

/** One JSON value as a line: what --json prints per object. */
export function jsonOut(value: Json): string {
  return `${JSON.stringify(value)}\n`;
}

/** A message as a line of CLI JSON. */
export function messageLine<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>): string {
  return jsonOut(toCliJson(desc, message));
}
