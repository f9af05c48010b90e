/**
 * A msgpack byte writer for making frames by hand, valid or not: any header with any count, any
 * marker, raw bytes. Unlike the codec it checks nothing, which is the point.
 */
const utf8 = new TextEncoder();

export class MsgpackWriter {
  private buf: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  /** @param capacity initial capacity in bytes (it grows as needed) */
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  /** `count` copies of the byte `b` (fast: one fill). */
  repeat(b: number, count: number): this {
    this.reserve(count);
    this.buf.fill(b & 0xff, this.length, this.length + count);
    this.length += count;
    return this;
  }

  raw(bytes: ArrayLike<number>): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** `count` copies of `pattern` (one write, then doubling copies: fast for millions). */
  pattern(pattern: ArrayLike<number>, count: number): this {
    const total = pattern.length * count;
    if (total === 0) return this;
    this.reserve(total);
    const start = this.length;
    this.buf.set(pattern, start);
    let done = pattern.length;
    while (done < total) {
      const n = Math.min(done, total - done);
      this.buf.copyWithin(start + done, start, start + n);
      done += n;
    }
    this.length += total;
    return this;
  }

  /**
   * Room for `n` bytes the caller writes itself: the buffer and the offset to write at (valid
   * until the next call). For fillers that write millions of varying elements.
   */
  span(n: number): { buf: Uint8Array; at: number } {
    this.reserve(n);
    const at = this.length;
    this.length += n;
    return { buf: this.buf, at };
  }

  /** Big-endian unsigned integer of `size` bytes (1, 2, 4 or 8; 8 takes a bigint or a safe integer). */
  be(value: number | bigint, size: 1 | 2 | 4 | 8): this {
    if (typeof value === 'number' && size <= 4) {
      const { buf, at } = this.span(size);
      for (let i = size - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) buf[at + i] = v & 0xff;
      return this;
    }
    let v = BigInt(value);
    const out: number[] = [];
    for (let i = 0; i < size; i++) {
      out.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.raw(out);
  }

  /** An array header for `n` elements in the smallest form (or array32 with `wide`). */
  array(n: number, wide = false): this {
    if (!wide && n < 16) return this.byte(0x90 | n);
    if (!wide && n < 0x10000) return this.byte(0xdc).be(n, 2);
    return this.byte(0xdd).be(n >>> 0, 4);
  }

  /** A map header for `n` entries in the smallest form (or map32 with `wide`). */
  map(n: number, wide = false): this {
    if (!wide && n < 16) return this.byte(0x80 | n);
    if (!wide && n < 0x10000) return this.byte(0xde).be(n, 2);
    return this.byte(0xdf).be(n >>> 0, 4);
  }

  /** A str header claiming `len` bytes (the bytes are not written). */
  strHeader(len: number): this {
    if (len < 32) return this.byte(0xa0 | len);
    if (len < 0x100) return this.byte(0xd9).byte(len);
    if (len < 0x10000) return this.byte(0xda).be(len, 2);
    return this.byte(0xdb).be(len >>> 0, 4);
  }

  str(s: string): this {
    const bytes = utf8.encode(s);
    return this.strHeader(bytes.length).raw(bytes);
  }

  bin(bytes: ArrayLike<number>): this {
    if (bytes.length < 0x100) this.byte(0xc4).byte(bytes.length);
    else if (bytes.length < 0x10000) this.byte(0xc5).be(bytes.length, 2);
    else this.byte(0xc6).be(bytes.length, 4);
    return this.raw(bytes);
  }

  /** A uuid as bin8 of 16 bytes, the form Rust writes. */
  uuid(text: string): this {
    const hex = text.replace(/-/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    return this.bin(bytes);
  }

  /** A non-negative integer in its smallest form. */
  uint(n: number | bigint): this {
    const v = BigInt(n);
    if (v < 0x80n) return this.byte(Number(v));
    if (v < 0x100n) return this.byte(0xcc).be(v, 1);
    if (v < 0x10000n) return this.byte(0xcd).be(v, 2);
    if (v < 0x100000000n) return this.byte(0xce).be(v, 4);
    return this.byte(0xcf).be(v, 8);
  }

  nil(): this {
    return this.byte(0xc0);
  }

  bool(b: boolean): this {
    return this.byte(b ? 0xc3 : 0xc2);
  }

  /** A copy of the bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
