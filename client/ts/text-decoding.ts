// protobuf-es turns every string field's UTF-8 into a string with TextDecoder.decode, which on
// Node 20 costs about a microsecond per call however short the string: `corral status` decodes
// 500 programs of a dozen short strings each, and this was about a third of that decoding, in a
// process whose code has not warmed up. Short ASCII bytes are read byte for byte instead (the same
// string); anything else still goes to the decoder. Installed through protobuf-es's own hook
// (configureTextEncoding), for this process; encoding is left as it was.
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

/** Longer strings go to TextDecoder, whose fixed cost no longer matters next to the copy. */
const SHORT_STRING = 64;

let installed = false;

/** Makes protobuf-es decode short ASCII strings without TextDecoder (idempotent; keeps the encoder as configured). */
export function useFastStringDecoding(): void {
  if (installed) return;
  installed = true;
  const current = getTextEncoding();
  const decodeUtf8 = current.decodeUtf8;
  configureTextEncoding({
    ...current,
    decodeUtf8(bytes: Uint8Array, strict?: boolean): string {
      const length = bytes.length;
      if (length > SHORT_STRING) return decodeUtf8(bytes, strict);
      for (let i = 0; i < length; i++) if (bytes[i]! > 0x7f) return decodeUtf8(bytes, strict);
      // ASCII is valid UTF-8, strict or not.
      return String.fromCharCode.apply(null, bytes as unknown as number[]);
    },
  });
}
