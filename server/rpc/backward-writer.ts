// Protobuf's wire format written from a message's end to its start, into one reused buffer: a
// nested message's length is then known (the bytes written since its end) when its length
// prefix is written, so nothing is sized twice and no per-message chunks are allocated.
// protobuf-es's BinaryWriter forks and joins a chunk per nested message instead.
/** The scratch buffer is kept between ticks up to this size (a bigger tick gets its own). */
const KEEP_SCRATCH_BYTES = 1 << 20;

/**
 * Writes a message from its end to its start, so each nested message's length is known (the
 * bytes written since its end) when its length prefix is written, without sizing it first.
 * Fields are therefore written last field first, and repeated elements last element first.
 */
export class BackwardWriter {
  buf: Buffer;
  /** The first written byte; the content is buf[pos, buf.length). */
  pos: number;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.pos = this.buf.length;
  }

  /** Bytes written so far: a mark to measure a nested message by. */
  get written(): number {
    return this.buf.length - this.pos;
  }

  private room(bytes: number): void {
    if (this.pos >= bytes) return;
    const written = this.written;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, written + bytes + 1024));
    this.buf.copy(grown, grown.length - written, this.pos);
    this.buf = grown;
    this.pos = grown.length - written;
  }

  /** A non-negative integer up to 2^53 as a varint. */
  varint(value: number): void {
    let size = 1;
    for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) size++;
    this.room(size);
    let at = (this.pos -= size);
    while (value >= 128) {
      this.buf[at++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.buf[at] = value;
  }

  /** int32 and int64: a negative value is its 64-bit two's complement, ten bytes. */
  signed(value: number): void {
    if (value >= 0) {
      this.varint(value);
      return;
    }
    this.room(10);
    let rest = BigInt.asUintN(64, BigInt(value));
    let at = (this.pos -= 10);
    for (let i = 0; i < 9; i++, rest >>= 7n) this.buf[at++] = Number(rest & 127n) | 128;
    this.buf[at] = Number(rest);
  }

  /** An unsigned 64-bit integer as a varint. */
  varint64(value: bigint): void {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.varint(Number(value));
      return;
    }
    let size = 1;
    for (let rest = value; rest >= 128n; rest >>= 7n) size++;
    this.room(size);
    let at = (this.pos -= size);
    for (let rest = value; ; rest >>= 7n) {
      if (rest < 128n) {
        this.buf[at] = Number(rest);
        return;
      }
      this.buf[at++] = Number(rest & 127n) | 128;
    }
  }

  tag(tag: number): void {
    if (tag < 128) {
      this.room(1);
      this.buf[--this.pos] = tag;
    } else this.varint(tag);
  }

  double(value: number): void {
    this.room(8);
    this.pos -= 8;
    this.buf.writeDoubleLE(value, this.pos);
  }

  float(value: number): void {
    this.room(4);
    this.pos -= 4;
    this.buf.writeFloatLE(value, this.pos);
  }

  fixed32(value: number): void {
    this.room(4);
    this.pos -= 4;
    this.buf.writeUInt32LE(value, this.pos);
  }

  fixed64(value: bigint): void {
    this.room(8);
    this.pos -= 8;
    this.buf.writeBigUInt64LE(value, this.pos);
  }

  /** Bytes as they are (a length-delimited value's content, or a kept encoding). */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.pos -= bytes.length;
    this.buf.set(bytes, this.pos);
  }

  string(text: string): void {
    const length = text.length;
    let ascii = true;
    for (let i = 0; i < length && ascii; i++) ascii = text.charCodeAt(i) < 128;
    const bytes = ascii ? length : Buffer.byteLength(text, "utf8");
    this.room(bytes);
    let at = (this.pos -= bytes);
    if (ascii) for (let i = 0; i < length; i++) this.buf[at++] = text.charCodeAt(i);
    else this.buf.write(text, at, bytes, "utf8");
    this.varint(bytes);
  }

  /** A field: its value, then (before it) its tag. */
  uintField(tag: number, value: number): void {
    this.varint(value);
    this.tag(tag);
  }

  intField(tag: number, value: number): void {
    this.signed(value);
    this.tag(tag);
  }

  doubleField(tag: number, value: number): void {
    this.double(value);
    this.tag(tag);
  }

  stringField(tag: number, text: string): void {
    this.string(text);
    this.tag(tag);
  }

  /** The length prefix and tag of a nested message whose content was written since mark. */
  close(tag: number, mark: number): void {
    this.varint(this.written - mark);
    this.tag(tag);
  }

  /** Copies the bytes written between two marks (an identical message written again). */
  repeat(fromMark: number, toMark: number): void {
    const length = toMark - fromMark;
    this.room(length);
    const start = this.buf.length - toMark;
    this.pos -= length;
    this.buf.copy(this.buf, this.pos, start, start + length);
  }

  /** Rewrites the tag just written, when it is one byte (a copy under another field number). */
  retag(tag: number): void {
    if (tag >= 128 || this.buf[this.pos] >= 128) throw new Error("retag needs one-byte tags");
    this.buf[this.pos] = tag;
  }

  /** The message written, in a buffer of its own. */
  take(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, this.pos);
  }

  /** Empty again (after a message, or a failed one), dropping a grown buffer past the bound. */
  reset(): void {
    if (this.buf.length > KEEP_SCRATCH_BYTES) this.buf = Buffer.allocUnsafe(64 * 1024);
    this.pos = this.buf.length;
  }
}
