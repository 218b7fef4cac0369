// The short-ASCII fast paths installed into protobuf-es (server/rpc/text-encoding.ts for encoding,
// client/ts/text-decoding.ts for decoding): every string comes out as TextEncoder / TextDecoder
// would make it, ASCII or not, short or long, and invalid UTF-8 is still refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { useFastStringDecoding } from "../../client/ts/text-decoding.js";
import { ProgramSpecSchema } from "../../gen/ts/corral/v1/process_manager_pb.js";
import { useFastStringEncoding } from "../../server/rpc/text-encoding.js";

const samples = [
  "",
  "p0",
  "not started",
  "\u007f",
  "h\u00e9llo",
  "\u00ff",
  "caf\u00e9 \u2615",
  "\ud83d\ude00 smile",
  "lone \ud800 surrogate",
  "x".repeat(64),
  `${"y".repeat(63)}\u00e9`,
  "z".repeat(65),
  `${"w".repeat(200)}\u00e9`,
];

test("with the fast paths on, strings encode to TextEncoder's bytes and decode back as TextDecoder reads them", () => {
  useFastStringEncoding();
  useFastStringDecoding();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const { encodeUtf8, decodeUtf8 } = getTextEncoding();
  for (const text of samples) {
    const expected = encoder.encode(text);
    assert.deepEqual(encodeUtf8(text), expected, JSON.stringify(text));
    assert.equal(decodeUtf8(expected), decoder.decode(expected), JSON.stringify(text));
    const spec = fromBinary(ProgramSpecSchema, toBinary(ProgramSpecSchema, create(ProgramSpecSchema, { name: text, command: [text, "b"] })));
    assert.equal(spec.name, decoder.decode(expected));
    assert.deepEqual(spec.command, [decoder.decode(expected), "b"]);
  }
});

test("invalid UTF-8 in a string field is still refused", () => {
  useFastStringDecoding();
  // Field 1 (name), length 2: a lone continuation byte and an ASCII one.
  assert.throws(() => fromBinary(ProgramSpecSchema, new Uint8Array([0x0a, 0x02, 0x80, 0x41])));
});
