/**
 * Low-level msgpack writing, always in the smallest form (what rmp writes), into a slab shared by
 * consecutive messages: each message is written after the previous one and handed out as a
 * `subarray` of the slab, never copied and never written again. Copying every message out cost
 * more than the rest of encoding a small one (an ArrayBuffer per message); a full slab is left to
 * the messages that point into it and a fresh one is started. A message with one big write (a
 * log chunk's bytes) is the exception: it gets a buffer of its own size, and the next message
 * continues on the slab it left (see `grow`).
 */
import { MAX_MESSAGE_BYTES } from '../types';
import { ProtocolError, formatPath } from '../errors';

/**
 * Size of a fresh slab. Small, so a message kept long (a queued command) keeps at most this much
 * memory alive with it; it still holds ~100 typical messages, one allocation for all of them.
 */
const SLAB_SIZE = 16 * 1024;
/** A message is started on a fresh slab when less than this is left on the current one. */
const MIN_ROOM = 1024;
/**
 * Fresh slabs grow to twice the biggest message seen, up to this size, so a stream of big messages
 * (output pages) is not moved to a bigger slab every time.
 */
const MAX_SLAB_SIZE = 256 * 1024;
/** A single write at least this big moves its message to a buffer of the message's size (see `grow`). */
const BIG_WRITE = 8 * 1024;
/** Room left in that buffer for the fields after the big one (a log event's timestamp and sequence). */
const BIG_WRITE_TAIL = 64;
/** A slab grown past this for a big message is not used for the messages after it. */
const KEEP_SIZE = 1024 * 1024;

const TWO_32 = 0x100000000;
const textEncoder = new TextEncoder();

/** Node's `Buffer#utf8Write`, which also writes into a plain Uint8Array; null outside Node. */
type Utf8Write = (this: Uint8Array, s: string, offset: number, length: number) => number;
const utf8Write =
  (globalThis as { Buffer?: { prototype: { utf8Write?: Utf8Write } } }).Buffer?.prototype.utf8Write ?? null;

/**
 * Strings of at least this many UTF-16 units are written by `Buffer#utf8Write` (a native call of
 * ~100 ns, then memcpy speed), shorter ones by the JS loop. Measured on Node 20: the loop is as
 * fast up to ~24 units and ~2× slower at 64. 32 also keeps the native path's header guess right
 * (32..85 units always take a str8 header).
 */
const NATIVE_STRING = 32;
/** Without Buffer: strings longer than this go through TextEncoder.encodeInto instead of the JS loop. */
const LONG_STRING = 64;

export class Writer {
  buf: Uint8Array;
  view: DataView;
  /** Where the message being written starts in `buf` (its prefix first, when it has one). */
  start = 0;
  /** Bytes of the current message's prefix (see {@link prefix}): not counted against the size limit. */
  private prefixLength = 0;
  /** The slab a big write left, and where its free space starts: used again after that message. */
  private aside: { buf: Uint8Array; view: DataView; pos: number } | null = null;
  /** Size of the next fresh slab (see MAX_SLAB_SIZE). */
  private slabSize = SLAB_SIZE;
  pos = 0;
  /** The message tag once known, for errors. */
  messageType: string | null = null;
  /** Field names, keys and indices from the message down to the value being written. */
  readonly segs: (string | number)[] = [];
  nsegs = 0;

  constructor() {
    this.buf = new Uint8Array(SLAB_SIZE);
    this.view = new DataView(this.buf.buffer);
  }

  /** Starts a message after the previous one, or on a fresh slab when little room is left. */
  reset(): void {
    if (this.buf.length - this.pos < MIN_ROOM) this.newSlab();
    this.start = this.pos;
    this.prefixLength = 0;
    this.messageType = null;
    this.nsegs = 0;
  }

  /**
   * Writes bytes that go before the message in the same buffer (the topic of a PUB frame), right
   * after `reset`, so the caller needs no second buffer and copy. They are not msgpack and do not
   * count against the message size limit.
   */
  prefix(bytes: Uint8Array): void {
    this.raw(bytes);
    this.prefixLength += bytes.length;
  }

  /**
   * The message's bytes: a view of the slab that no later message overwrites (the slab's other
   * bytes belong to other messages, so its `buffer` must not be transferred or reused).
   */
  finish(): Uint8Array {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    if (!this.takeBack() && this.buf.length > KEEP_SIZE) this.newSlab();
    return out;
  }

  /** Forgets a message that failed half-written; its bytes are written over by the next one. */
  release(): void {
    this.pos = this.start;
    if (!this.takeBack() && this.buf.length > KEEP_SIZE) this.newSlab();
  }

  /** Goes back to the slab set aside by a big write (see `grow`), if one was; returns whether. */
  private takeBack(): boolean {
    const aside = this.aside;
    if (aside === null) return false;
    this.aside = null;
    this.buf = aside.buf;
    this.view = aside.view;
    this.start = this.pos = aside.pos;
    return true;
  }

  private newSlab(): void {
    this.buf = new Uint8Array(this.slabSize);
    this.view = new DataView(this.buf.buffer);
    this.start = this.pos = 0;
  }

  /** Bytes of the message written so far, its prefix not counted. */
  get length(): number {
    return this.pos - this.start - this.prefixLength;
  }

  fail(reason: string): never {
    throw new ProtocolError('encode', this.messageType, formatPath(this.segs, this.nsegs), reason);
  }

  tooLarge(size: number): never {
    throw new ProtocolError(
      'too_large',
      this.messageType,
      '',
      `encoded message would exceed the ${MAX_MESSAGE_BYTES}-byte limit (at least ${size} bytes)`,
    );
  }

  /** Makes room for n more bytes; every caller passes an exact size (or a bound below the limit). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Moves the message to a slab with room for n more bytes (the old one stays with its messages). */
  private grow(n: number): void {
    const used = this.pos - this.start;
    const needed = used + n;
    if (this.length + n > MAX_MESSAGE_BYTES) this.tooLarge(this.length + n);
    const limit = MAX_MESSAGE_BYTES + this.prefixLength;
    let size: number;
    if (n >= BIG_WRITE && this.aside === null) {
      // A message's first big write (a log chunk's bytes): the message gets a buffer of its own
      // size, and the slab it leaves is set aside for the next message. Moving to a doubled slab
      // instead left half of every slab unused (the next chunk did not fit either) and a small
      // message after it on a fresh one; from 128 KiB on the allocator maps fresh pages each
      // time, and filling a fresh page costs a fault.
      this.aside = { buf: this.buf, view: this.view, pos: this.start };
      size = Math.min(needed + BIG_WRITE_TAIL, limit);
    } else {
      // Any other growth doubles, so a message built field by field (an output page of long
      // lines included) is copied O(log n) times, not once per field.
      size = Math.min(Math.max(used * 2, needed, this.slabSize), limit);
      this.slabSize = Math.min(Math.max(this.slabSize, 2 * needed), MAX_SLAB_SIZE);
    }
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.start = 0;
    this.pos = used;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Copies pre-encoded bytes (cached tags, enum names). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  arrayHeader(n: number): void {
    if (n < 16) this.byte(0x90 | n);
    else this.lengthHeader(0xdc, n);
  }

  mapHeader(n: number): void {
    if (n < 16) this.byte(0x80 | n);
    else this.lengthHeader(0xde, n);
  }

  /** array16/map16 marker `m16` (the 32-bit form is m16 + 1). */
  private lengthHeader(m16: number, n: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    if (n < 0x10000) {
      b[p++] = m16;
      b[p++] = n >>> 8;
      b[p++] = n & 0xff;
    } else {
      b[p++] = m16 + 1;
      b[p++] = n >>> 24;
      b[p++] = (n >>> 16) & 0xff;
      b[p++] = (n >>> 8) & 0xff;
      b[p++] = n & 0xff;
    }
    this.pos = p;
  }

  /** bin8 of 16 bytes: `c4 10` + bytes (how rmp writes a Uuid). */
  uuid(bytes: Uint8Array): void {
    this.ensure(18);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0xc4;
    b[p + 1] = 0x10;
    for (let i = 0; i < 16; i++) b[p + 2 + i] = bytes[i] as number;
    this.pos = p + 18;
  }

  /** A non-negative integer-valued number ≤ 2^64 - 1, smallest uint form. */
  uint(v: number): void {
    this.ensure(9);
    const b = this.buf;
    const p = this.pos;
    if (v < 0x80) {
      b[p] = v;
      this.pos = p + 1;
    } else if (v < 0x100) {
      b[p] = 0xcc;
      b[p + 1] = v;
      this.pos = p + 2;
    } else if (v < 0x10000) {
      b[p] = 0xcd;
      b[p + 1] = v >>> 8;
      b[p + 2] = v & 0xff;
      this.pos = p + 3;
    } else if (v < TWO_32) {
      b[p] = 0xce;
      this.u32At(p + 1, v);
      this.pos = p + 5;
    } else {
      b[p] = 0xcf;
      this.u32At(p + 1, Math.floor(v / TWO_32));
      this.u32At(p + 5, v >>> 0);
      this.pos = p + 9;
    }
  }

  /** A negative integer-valued number ≥ -2^63, smallest int form. */
  negInt(v: number): void {
    this.ensure(9);
    const b = this.buf;
    const p = this.pos;
    if (v >= -32) {
      b[p] = v & 0xff;
      this.pos = p + 1;
    } else if (v >= -0x80) {
      b[p] = 0xd0;
      b[p + 1] = v & 0xff;
      this.pos = p + 2;
    } else if (v >= -0x8000) {
      b[p] = 0xd1;
      b[p + 1] = (v >> 8) & 0xff;
      b[p + 2] = v & 0xff;
      this.pos = p + 3;
    } else if (v >= -0x80000000) {
      b[p] = 0xd2;
      this.u32At(p + 1, v >>> 0);
      this.pos = p + 5;
    } else {
      const hi = Math.floor(v / TWO_32);
      b[p] = 0xd3;
      this.u32At(p + 1, hi >>> 0);
      this.u32At(p + 5, v - hi * TWO_32);
      this.pos = p + 9;
    }
  }

  /** Any integer-valued number or bigint within [-2^63, 2^64); the caller checks the range. */
  int(v: number | bigint): void {
    if (typeof v === 'number') {
      if (v >= 0) this.uint(v);
      else this.negInt(v);
      return;
    }
    if (v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn) {
      this.int(Number(v));
      return;
    }
    this.ensure(9);
    const p = this.pos;
    this.buf[p] = v < 0n ? 0xd3 : 0xcf;
    const u = BigInt.asUintN(64, v);
    this.u32At(p + 1, Number(u >> 32n));
    this.u32At(p + 5, Number(u & 0xffffffffn));
    this.pos = p + 9;
  }

  float64(v: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, v);
    this.pos += 9;
  }

  private u32At(p: number, v: number): void {
    const b = this.buf;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
  }

  /** Writes the str header for `len` bytes at p; returns its size. */
  private strHeaderAt(p: number, len: number): number {
    const b = this.buf;
    if (len < 32) {
      b[p] = 0xa0 | len;
      return 1;
    }
    if (len < 0x100) {
      b[p] = 0xd9;
      b[p + 1] = len;
      return 2;
    }
    if (len < 0x10000) {
      b[p] = 0xda;
      b[p + 1] = len >>> 8;
      b[p + 2] = len & 0xff;
      return 3;
    }
    b[p] = 0xdb;
    this.u32At(p + 1, len);
    return 5;
  }

  /**
   * A str in its smallest header form. ASCII is copied in one pass; other text is UTF-8 encoded with
   * lone surrogates replaced by U+FFFD (as TextEncoder does).
   */
  str(s: string): void {
    const n = s.length;
    const worst = 5 + n * 3;
    if (this.pos + worst > this.buf.length) {
      if (this.length + worst > MAX_MESSAGE_BYTES) {
        this.strExact(s);
        return;
      }
      this.grow(worst);
    }
    const b = this.buf;
    const p = this.pos;
    if (n >= NATIVE_STRING && utf8Write !== null) {
      const h = headerSize(n * 3);
      const written = utf8Write.call(b, s, p + h, n * 3);
      const hl = headerSize(written);
      if (hl !== h) b.copyWithin(p + hl, p + h, p + h + written);
      this.strHeaderAt(p, written);
      this.pos = p + hl + written;
      return;
    }
    if (n <= LONG_STRING) {
      const h = n < 32 ? 1 : 2;
      const start = p + h;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      if (i === n) {
        if (h === 1) b[p] = 0xa0 | n;
        else {
          b[p] = 0xd9;
          b[p + 1] = n;
        }
        this.pos = start + n;
        return;
      }
      // Non-ASCII from index i: encode the rest after the ASCII prefix already copied, then fix the
      // header (at most 192 bytes, so it stays 1 or 2 bytes long and moves the text by ≤ 1 byte).
      const end = encodeUtf8(s, i, b, start + i);
      const len = end - start;
      const hl = headerSize(len);
      if (hl !== h) b.copyWithin(p + hl, start, end);
      this.strHeaderAt(p, len);
      this.pos = p + hl + len;
      return;
    }
    const h = headerSize(n * 3);
    const written = textEncoder.encodeInto(s, b.subarray(p + h)).written;
    const hl = headerSize(written);
    if (hl !== h) b.copyWithin(p + hl, p + h, p + h + written);
    this.strHeaderAt(p, written);
    this.pos = p + hl + written;
  }

  /** Near the size limit: measure first so the limit check is exact. */
  private strExact(s: string): void {
    const len = utf8Length(s);
    const h = headerSize(len);
    this.ensure(h + len);
    const p = this.pos;
    this.strHeaderAt(p, len);
    textEncoder.encodeInto(s, this.buf.subarray(p + h, p + h + len));
    this.pos = p + h + len;
  }
}

function headerSize(len: number): number {
  return len < 32 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
}

/** UTF-8 byte length of a JS string; a lone surrogate counts as U+FFFD (3 bytes). */
export function utf8Length(s: string): number {
  const n = s.length;
  let len = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 4;
        i++;
      } else len += 3;
    } else len += 3;
  }
  return len;
}

/** Encodes s[from..] as UTF-8 at out[p..]; returns the end position. Lone surrogates become U+FFFD. */
function encodeUtf8(s: string, from: number, out: Uint8Array, p: number): number {
  const n = s.length;
  for (let i = from; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}
