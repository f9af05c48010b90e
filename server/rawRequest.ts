/**
 * The salvage path for frames the codec rejected: read just the tag and the request id, by hand,
 * so the server can still answer with an error naming the problem.
 *
 * It never builds the message: it walks the msgpack bytes with one cursor and one counter, so a
 * hostile frame (nested 10 MiB deep, lengths claiming 4 G elements, millions of tiny values)
 * costs at most one step per input byte and no allocation beyond the two strings it returns. A
 * general msgpack decoder used here (it was `@msgpack/msgpack` `decodeMulti`, unbounded) let a
 * 21 KB frame of nested maps drive the server to 1.5 GB.
 */

/** What can still be read from a frame the codec rejected. */
export interface RawPeek {
  /** The tag (array element 0 or map key `type`) when it is a string of at most {@link PEEK_MAX_STRING_BYTES}. */
  readonly tag: string | null;
  /** The request id (array element 1 or map key `request_id`) when it is a string of at most {@link PEEK_MAX_STRING_BYTES}. */
  readonly requestId: string | null;
}

/**
 * Longest tag or request id (UTF-8 bytes) that is read back. Ours are UUIDs (36 bytes); a longer
 * string is taken as absent, so an error reply never echoes megabytes back to the sender.
 */
export const PEEK_MAX_STRING_BYTES = 1024;

const NOTHING: RawPeek = { tag: null, requestId: null };
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TYPE_KEY = [0x74, 0x79, 0x70, 0x65]; // "type"
const REQUEST_ID_KEY = [0x72, 0x65, 0x71, 0x75, 0x65, 0x73, 0x74, 0x5f, 0x69, 0x64]; // "request_id"

/** A read position over the frame; -1 once the bytes ran out or a marker was invalid. */
class Cursor {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end: number,
  ) {}

  get failed(): boolean {
    return this.pos < 0;
  }

  /** Reads a big-endian unsigned integer of `size` (1, 2 or 4) bytes; -1 when truncated. */
  uint(size: number): number {
    const p = this.pos;
    if (p < 0 || p + size > this.end) return (this.pos = -1);
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + (this.buf[p + i] as number);
    this.pos = p + size;
    return v;
  }

  /** Moves past `n` bytes; fails when fewer are left or `n` is negative (an invalid marker). */
  advance(n: number): void {
    if (this.pos < 0) return;
    this.pos = n < 0 || n > this.end - this.pos ? -1 : this.pos + n;
  }
}

/** The byte length of a str whose marker `m` was read, or -1 when `m` is not a str marker. */
function strLength(c: Cursor, m: number): number {
  if ((m & 0xe0) === 0xa0) return m & 0x1f;
  if (m === 0xd9) return c.uint(1);
  if (m === 0xda) return c.uint(2);
  if (m === 0xdb) return c.uint(4);
  return -1;
}

/** The element count of an array whose marker `m` was read, or -1. */
function arrayLength(c: Cursor, m: number): number {
  if ((m & 0xf0) === 0x90) return m & 0x0f;
  if (m === 0xdc) return c.uint(2);
  if (m === 0xdd) return c.uint(4);
  return -1;
}

/** The entry count of a map whose marker `m` was read, or -1. */
function mapLength(c: Cursor, m: number): number {
  if ((m & 0xf0) === 0x80) return m & 0x0f;
  if (m === 0xde) return c.uint(2);
  if (m === 0xdf) return c.uint(4);
  return -1;
}

/**
 * Skips one msgpack value, whatever it holds, without recursion: `pending` counts the values
 * still to skip, and a container adds its elements to it. Every step reads at least one byte, and
 * a count larger than the bytes left fails at once, so the work is at most one step per byte.
 */
function skipValue(c: Cursor): void {
  const buf = c.buf;
  const end = c.end;
  let pos = c.pos;
  let pending = 1;
  // The common markers (fixint, fixmap, fixarray, fixstr) are handled with locals: a 10 MiB frame
  // of nesting is ten million steps.
  while (pending > 0) {
    if (pos < 0 || pos >= end) {
      c.pos = -1;
      return;
    }
    const m = buf[pos++] as number;
    pending--;
    if (m < 0x80 || m >= 0xe0) continue;
    if (m <= 0x9f) {
      pending += m < 0x90 ? (m & 0x0f) * 2 : m & 0x0f;
      // Each value takes at least one byte: a count beyond the bytes left cannot be satisfied.
      if (pending > end - pos) {
        c.pos = -1;
        return;
      }
      continue;
    }
    if (m <= 0xbf) {
      pos += m & 0x1f;
      continue;
    }
    c.pos = pos;
    let n = mapLength(c, m);
    if (n >= 0) n *= 2;
    else n = arrayLength(c, m);
    if (n >= 0) {
      pending += n;
      if (c.pos < 0 || pending > end - c.pos) {
        c.pos = -1;
        return;
      }
    } else {
      const len = strLength(c, m);
      c.advance(len >= 0 ? len : scalarBodyLength(c, m));
    }
    if (c.pos < 0) return;
    pos = c.pos;
  }
  c.pos = pos > end ? -1 : pos;
}

/** Bytes after marker `m` of a non-container, non-str value (reading the length first); -1 for 0xc1. */
function scalarBodyLength(c: Cursor, m: number): number {
  switch (m) {
    case 0xc4:
      return c.uint(1);
    case 0xc5:
      return c.uint(2);
    case 0xc6:
      return c.uint(4);
    case 0xc7:
      return c.failed ? -1 : c.uint(1) + 1; // ext8: length, then the type byte
    case 0xc8:
      return c.failed ? -1 : c.uint(2) + 1;
    case 0xc9:
      return c.failed ? -1 : c.uint(4) + 1;
    default:
      return fixedBodyLength(m);
  }
}

/**
 * Bytes after marker `m` of a value whose size the marker alone fixes: nil, bool, float, int
 * and fixext (its type byte included). -1 for every other marker: 0xc1 (never used) and those
 * whose length follows them or that start a container. Also the fuzzers' frame walker's table.
 */
export function fixedBodyLength(m: number): number {
  switch (m) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return 0;
    case 0xcc:
    case 0xd0:
      return 1;
    case 0xcd:
    case 0xd1:
      return 2;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 4;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 8;
    case 0xd4:
      return 2; // fixext 1: type + 1 byte
    case 0xd5:
      return 3;
    case 0xd6:
      return 5;
    case 0xd7:
      return 9;
    case 0xd8:
      return 17;
    default:
      return -1;
  }
}

/**
 * Steps over the next value. When it is a str, returns its byte length (its bytes end at
 * `c.pos`); otherwise -1: a value of another kind was skipped, or the bytes ran out.
 */
function nextStr(c: Cursor): number {
  if (c.pos < 0 || c.pos >= c.end) {
    c.pos = -1;
    return -1;
  }
  const start = c.pos;
  const m = c.buf[c.pos++] as number;
  const len = strLength(c, m);
  if (len < 0) {
    c.pos = start;
    skipValue(c);
    return -1;
  }
  c.advance(len);
  return c.failed ? -1 : len;
}

/**
 * Reads a str value (at most {@link PEEK_MAX_STRING_BYTES}, valid UTF-8) or skips whatever else
 * the value is; null when it is not such a string.
 */
function readSmallString(c: Cursor): string | null {
  const len = nextStr(c);
  if (len < 0 || len > PEEK_MAX_STRING_BYTES) return null;
  try {
    return utf8.decode(c.buf.subarray(c.pos - len, c.pos));
  } catch {
    return null;
  }
}

const OTHER_KEY = 0;
const TAG_KEY = 1;
const ID_KEY = 2;

/** Reads a map key (any value) and tells whether it is the str `type`, `request_id` or another. */
function readKey(c: Cursor): number {
  const len = nextStr(c);
  if (len < 0) return OTHER_KEY;
  if (bytesEqual(c.buf, c.pos - len, len, TYPE_KEY)) return TAG_KEY;
  if (bytesEqual(c.buf, c.pos - len, len, REQUEST_ID_KEY)) return ID_KEY;
  return OTHER_KEY;
}

function bytesEqual(buf: Uint8Array, at: number, len: number, key: readonly number[]): boolean {
  if (len !== key.length) return false;
  for (let i = 0; i < len; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

/**
 * Reads the tag and request id of a frame the codec rejected, so the server can still answer
 * it with an error: array elements 0 and 1, or the first `type` and `request_id` keys of a map.
 * Whatever can be read before the bytes run out or turn invalid is returned; never throws.
 *
 * Cost: at most one step per input byte, no recursion, no allocation except the two strings.
 * @param bytes the rejected frame (at most 10 MiB; any length works)
 */
export function peekRawRequest(bytes: Uint8Array): RawPeek {
  const c = new Cursor(bytes, bytes.length);
  if (bytes.length === 0) return NOTHING;
  const m = bytes[c.pos++] as number;
  const n = arrayLength(c, m);
  if (n >= 0) {
    const tag = n >= 1 ? readSmallString(c) : null;
    const requestId = n >= 2 && !c.failed ? readSmallString(c) : null;
    return { tag, requestId };
  }
  const entries = mapLength(c, m);
  if (entries < 0) return NOTHING;
  let tag: string | null = null;
  let requestId: string | null = null;
  let sawTag = false;
  let sawId = false;
  for (let i = 0; i < entries && !(sawTag && sawId) && !c.failed; i++) {
    const key = readKey(c);
    // The first occurrence counts; the codec already rejected the frame, duplicates or not.
    if (key === TAG_KEY && !sawTag) {
      sawTag = true;
      tag = readSmallString(c);
    } else if (key === ID_KEY && !sawId) {
      sawId = true;
      requestId = readSmallString(c);
    } else {
      skipValue(c);
    }
  }
  return { tag, requestId };
}
