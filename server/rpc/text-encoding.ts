// protobuf-es turns every string field into UTF-8 with TextEncoder.encode, which on Node 20 costs
// about a microsecond per call however short the string: a GetProcess reply holds a dozen short
// strings (name, state reason, host, label keys and values), and this was a fifth of encoding it.
// Short ASCII strings are written byte for byte instead (the same bytes); anything else still goes
// to the encoder. Installed through protobuf-es's own hook (configureTextEncoding), for this
// process; decoding is left as it was (client/ts/text-decoding.ts speeds up the other direction).
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

/** Longer strings go to TextEncoder, whose fixed cost no longer matters next to the copy. */
const SHORT_STRING = 64;

let installed = false;

/** Makes protobuf-es encode short ASCII strings without TextEncoder (idempotent; keeps the decoder as configured). */
export function useFastStringEncoding(): void {
  if (installed) return;
  installed = true;
  const current = getTextEncoding();
  const encodeUtf8 = current.encodeUtf8;
  configureTextEncoding({
    ...current,
    encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
      const length = text.length;
      if (length > SHORT_STRING) return encodeUtf8(text);
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code > 0x7f) return encodeUtf8(text);
        bytes[i] = code;
      }
      return bytes;
    },
  });
}
