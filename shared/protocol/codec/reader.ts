/**
 * Low-level msgpack reading over a Uint8Array: markers, lengths, integers, strict UTF-8 strings,
 * and the field-path stack that decode errors report. One Reader is reused across decode calls.
 */
import { ProtocolError, formatPath } from '../errors';
import { ShapeSet } from './shapeSet';
import { isAscii } from './isAscii';

/**
 * rmp_serde's nesting limit: its depth counter starts at 1024 and fails when it reaches 0, so at
 * most 1023 nested arrays/maps (the message itself counts as one).
 */
export const MAX_DEPTH = 1023;

/**
 * The memory budget of one decode, in estimated bytes of JS heap. Every array, map, struct,
 * string and element the decoder creates is charged at a rough V8 size (the `COST_*` constants)
 * *before* it is built, so a hostile frame fails with a ProtocolError instead of growing the heap:
 * 10 MiB of one-byte empty arrays would otherwise become ~650 MiB of JS arrays and take seconds.
 *
 * A message may spend `HEAP_BASE + HEAP_PER_INPUT_BYTE × its length`, and never more than
 * `HEAP_MAX`. The base keeps every ordinary message far below the limit whatever its shape; the
 * per-byte share lets big messages of realistic shape through (output lines, agent lists: 2-4×
 * their size); the cap bounds the time of the worst 10 MiB frame, which is mostly the time to get
 * fresh memory from the OS (measured: 12 MiB of small values in 20-45 ms on a loaded 2-core VM).
 * It still admits the biggest legitimate values: a 10 MiB string, log chunk or output page.
 * Rust peers have no such limit: this is a deliberate refusal of what no peer of ours sends
 * (e.g. more than ~170 000 arrays, or 1.5 million numbers, in one message). Measured heap use
 * stays within 1.5× of the estimate (`npm run fuzz -- decode`).
 */
export const HEAP_BASE = 1024 * 1024;
/** See {@link HEAP_BASE}. */
export const HEAP_PER_INPUT_BYTE = 8;
/** See {@link HEAP_BASE}: 12 MiB. */
export const HEAP_MAX = 12 * 1024 * 1024;
/** An array, object or Uint8Array header (V8: 32-56 bytes, plus a hidden class now and then). */
export const COST_CONTAINER = 64;
/** One element slot of an array or struct (a tagged pointer). */
export const COST_SLOT = 8;
/** One property of a map-made object (dictionary entry or descriptor, key included). */
export const COST_ENTRY = 24;
/** A number V8 boxes: a float, or an integer beyond 31 bits (a HeapNumber). */
export const COST_BOXED_NUMBER = 16;
/**
 * An integer beyond 2^53 (a BigInt), charged by the time it takes rather than its size: at ~100 ns
 * each (measured, Node 20, loaded 2-core VM), HEAP_MAX admits ~50 000 of them, a few ms.
 */
export const COST_BIGINT = 256;
/**
 * A map key that gives an object a shape (hidden class) not seen before in this message. V8 pays
 * for those far more than for a slot: a new hidden class and transition, and interning the key
 * (1-4 µs each, measured on Node 20), while objects that repeat keys in the same order share one
 * shape. 1 KiB allows 1 024 new shapes in any message (HEAP_BASE), 12 288 at most (HEAP_MAX).
 */
export const COST_NEW_SHAPE = 1024;
/**
 * A string's header; its UTF-8 length is charged on top (V8 keeps about one byte of heap per UTF-8
 * byte: Latin-1 in one byte per char, the rest in two bytes per UTF-16 unit).
 */
export const COST_STRING = 16;

/** The heap budget, in estimated bytes, of decoding a message of `length` bytes. */
export function heapBudget(length: number): number {
  return Math.min(HEAP_MAX, HEAP_BASE + HEAP_PER_INPUT_BYTE * length);
}

const EMPTY = new Uint8Array(0);

export class Reader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  /** Current array/map nesting. */
  depth = 0;
  /** Estimated heap bytes this decode may still allocate ({@link heapBudget}). */
  budget = 0;
  /**
   * Values left at each open level while skipping an ignored value (decode.ts skipValue), so
   * skipping never recurses or allocates; nesting is bounded by MAX_DEPTH.
   */
  readonly skipStack = new Float64Array(MAX_DEPTH + 1);
  /** Hashes of the object shapes (key sequences) this decode made, see {@link chargeKey}. */
  readonly shapes = new ShapeSet();
  /** Created on the first float read of a buffer. */
  view: DataView | null = null;
  /** The whole input as one-byte text, made on the first long ASCII string (see {@link readStrBody}). */
  text: string | null = null;
  /** The message tag once known, for errors. */
  messageType: string | null = null;
  /** Field names, JSON keys and array indices from the message down to the value being read. */
  readonly segs: (string | number)[] = [];
  nsegs = 0;

  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.depth = 0;
    this.budget = heapBudget(buf.length);
    this.shapes.clear();
    this.view = null;
    this.text = null;
    this.messageType = null;
    this.nsegs = 0;
  }

  /** Drops the reference to the input so a big buffer is not kept alive between calls. */
  release(): void {
    this.buf = EMPTY;
    this.view = null;
    this.text = null;
  }
}

export function fail(r: Reader, reason: string): never {
  const error = new ProtocolError('decode', r.messageType, formatPath(r.segs, r.nsegs), reason);
  r.release(); // do not keep the rejected input alive until the next decode
  throw error;
}

export function truncated(r: Reader): never {
  return fail(r, 'unexpected end of input (truncated message)');
}

/** Consumes the marker byte. */
export function nextByte(r: Reader): number {
  if (r.pos >= r.end) truncated(r);
  return r.buf[r.pos++] as number;
}

/** Ensures n more bytes are available. */
export function need(r: Reader, n: number): void {
  if (n > r.end - r.pos) truncated(r);
}

export function u16(r: Reader): number {
  need(r, 2);
  const b = r.buf;
  const p = r.pos;
  r.pos = p + 2;
  return ((b[p] as number) << 8) | (b[p + 1] as number);
}

export function u32(r: Reader): number {
  need(r, 4);
  const b = r.buf;
  const p = r.pos;
  r.pos = p + 4;
  return (
    (b[p] as number) * 0x1000000 +
    (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number))
  );
}

export function view(r: Reader): DataView {
  return (r.view ??= new DataView(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength));
}

/** Name of the msgpack type a marker starts, for errors. */
export function typeName(m: number): string {
  if (m < 0x80 || m >= 0xe0) return 'integer';
  if (m <= 0x8f) return 'map';
  if (m <= 0x9f) return 'array';
  if (m <= 0xbf) return 'string';
  switch (m) {
    case 0xc0:
      return 'nil';
    case 0xc1:
      return 'the reserved marker 0xc1';
    case 0xc2:
    case 0xc3:
      return 'bool';
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return 'bin';
    case 0xca:
    case 0xcb:
      return 'float';
    case 0xd9:
    case 0xda:
    case 0xdb:
      return 'string';
    case 0xdc:
    case 0xdd:
      return 'array';
    case 0xde:
    case 0xdf:
      return 'map';
    default:
      return m >= 0xcc && m <= 0xd3 ? 'integer' : 'ext';
  }
}

/** Length of a str whose marker `m` was just consumed, or -1 when `m` is not a str marker. */
export function strLength(r: Reader, m: number): number {
  if ((m & 0xe0) === 0xa0) return m & 0x1f;
  if (m === 0xd9) return nextByte(r);
  if (m === 0xda) return u16(r);
  if (m === 0xdb) return u32(r);
  return -1;
}

/** Length of an array whose marker was just consumed, or -1. Checks it against the bytes left. */
export function arrayLength(r: Reader, m: number): number {
  return containerLength(r, m, 0x90, 0xdc, 1);
}

/** Entry count of a map whose marker was just consumed, or -1. Checks it against the bytes left. */
export function mapLength(r: Reader, m: number): number {
  return containerLength(r, m, 0x80, 0xde, 2);
}

/**
 * Count of a container whose marker `m` was just consumed, or -1 when `m` is not of its kind: `fix`
 * is the kind's fix marker with a zero count, `m16` its 16-bit marker (the 32-bit one is `m16 + 1`),
 * `values` the values an element holds (2 for a map entry).
 */
function containerLength(r: Reader, m: number, fix: number, m16: number, values: number): number {
  let n: number;
  if ((m & 0xf0) === fix) n = m & 0x0f;
  else if (m === m16) n = u16(r);
  else if (m === m16 + 1) n = u32(r);
  else return -1;
  // Every value takes at least one byte: a hostile count fails here, before any allocation.
  if (n * values > r.end - r.pos) truncated(r);
  return n;
}

/**
 * Charges `bytes` of estimated heap to the decode before the value is built; fails once the
 * message is over its budget ({@link heapBudget}).
 */
export function charge(r: Reader, bytes: number): void {
  if ((r.budget -= bytes) < 0) {
    const MiB = 1024 * 1024;
    fail(
      r,
      `message too dense to decode: its values would take more than ${Math.round(heapBudget(r.end) / 1024)} KiB ` +
        `of memory (the limit for a ${r.end}-byte message: ${HEAP_BASE / MiB} MiB + ${HEAP_PER_INPUT_BYTE}× ` +
        `its size, at most ${HEAP_MAX / MiB} MiB)`,
    );
  }
}

/**
 * The shape of an empty object. Random per process, so nobody can craft keys whose shape hashes
 * collide (a collision only under-charges; it never rejects anything).
 */
export const EMPTY_SHAPE = (Math.random() * 0x100000000) | 0;

/**
 * Charges the map key of `len` bytes at r.pos that is added to an object of shape `shape` and
 * returns the object's new shape: {@link COST_NEW_SHAPE} the first time this key follows this
 * shape in the message, nothing more when it repeats (the entry itself is charged by the map).
 */
export function chargeKey(r: Reader, shape: number, len: number): number {
  const b = r.buf;
  let h = shape;
  for (let i = r.pos, end = r.pos + len; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ len;
  if (r.shapes.add(h)) charge(r, COST_NEW_SHAPE);
  return h;
}

export function enter(r: Reader): void {
  if (++r.depth > MAX_DEPTH) fail(r, `nesting deeper than ${MAX_DEPTH} arrays/maps`);
}

/** Length of a bin whose marker was just consumed, or -1. */
export function binLength(r: Reader, m: number): number {
  if (m === 0xc4) return nextByte(r);
  if (m === 0xc5) return u16(r);
  if (m === 0xc6) return u32(r);
  return -1;
}

/** True for fixext/ext markers. */
export function isExt(m: number): boolean {
  return (m >= 0xc7 && m <= 0xc9) || (m >= 0xd4 && m <= 0xd8);
}

/**
 * Describes an ext value starting at marker `m` (already consumed) for an error; recognises the
 * msgpack timestamp ext (type -1), which is what a JS `Date` becomes.
 */
export function describeExt(r: Reader, m: number): string {
  let typeAt = r.pos;
  if (m === 0xc7) typeAt += 1;
  else if (m === 0xc8) typeAt += 2;
  else if (m === 0xc9) typeAt += 4;
  return typeAt < r.end && r.buf[typeAt] === 0xff ? 'a msgpack timestamp ext (a JS Date?)' : 'an ext value';
}

// ---- UTF-8 -------------------------------------------------------------------------------------

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const fromCharCode = String.fromCharCode;

/**
 * In Node, in a message over {@link MESSAGE_TEXT_MAX} bytes, strings longer than this many bytes
 * are checked for ASCII in JS and cut from a `Buffer#latin1Slice` string ({@link readStrBody});
 * shorter ones are built in JS (8 bytes per String.fromCharCode call). Past ~16 bytes a JS-built string is a chain of pieces V8 must flatten
 * when it is used, which costs more than the native call (measured on Node 20). Any string with a
 * non-ASCII byte goes to the strict TextDecoder (~150 ns a call).
 */
const SHORT_STRING = 16;
/** In a small message, strings up to this many bytes are one String.fromCharCode call, not a slice. */
const ONE_CALL_STRING = 7;
/** Without Buffer (a browser), strings up to this many bytes are still tried as ASCII in JS. */
const SHORT_STRING_NO_BUFFER = 40;

/** Node's `Buffer#latin1Slice`, which also reads a plain Uint8Array; null outside Node. */
type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice =
  (globalThis as { Buffer?: { prototype: { latin1Slice?: Latin1Slice } } }).Buffer?.prototype.latin1Slice ??
  null;

function decodeWithTextDecoder(buf: Uint8Array, start: number, len: number): string | null {
  try {
    return decoder.decode(buf.subarray(start, start + len));
  } catch {
    return null;
  }
}

/** Decodes buf[start..start+len) as strict UTF-8 (BOM kept); null when it is not valid UTF-8. */
export function decodeUtf8(buf: Uint8Array, start: number, len: number): string | null {
  if (len > SHORT_STRING_NO_BUFFER) return decodeWithTextDecoder(buf, start, len);
  const end = start + len;
  let out = '';
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = buf[i] as number;
    const b = buf[i + 1] as number;
    const c = buf[i + 2] as number;
    const d = buf[i + 3] as number;
    const e = buf[i + 4] as number;
    const f = buf[i + 5] as number;
    const g = buf[i + 6] as number;
    const h = buf[i + 7] as number;
    if ((a | b | c | d | e | f | g | h) & 0x80) return decodeWithTextDecoder(buf, start, len);
    out += fromCharCode(a, b, c, d, e, f, g, h);
  }
  if (i === end) return out;
  const tail = asciiTail(buf, i, end - i);
  return tail === null ? decodeWithTextDecoder(buf, start, len) : out + tail;
}

/** buf[i..i+n) for n in 1..7 as one string made by one call, or null when a byte is not ASCII. */
function asciiTail(buf: Uint8Array, i: number, n: number): string | null {
  // Bytes past the n asked for are read as 0 so they neither fail the check nor land in the text.
  const a = buf[i] as number;
  const b = n > 1 ? (buf[i + 1] as number) : 0;
  const c = n > 2 ? (buf[i + 2] as number) : 0;
  const d = n > 3 ? (buf[i + 3] as number) : 0;
  const e = n > 4 ? (buf[i + 4] as number) : 0;
  const f = n > 5 ? (buf[i + 5] as number) : 0;
  const g = n > 6 ? (buf[i + 6] as number) : 0;
  if ((a | b | c | d | e | f | g) & 0x80) return null;
  switch (n) {
    case 1:
      return fromCharCode(a);
    case 2:
      return fromCharCode(a, b);
    case 3:
      return fromCharCode(a, b, c);
    case 4:
      return fromCharCode(a, b, c, d);
    case 5:
      return fromCharCode(a, b, c, d, e);
    case 6:
      return fromCharCode(a, b, c, d, e, f);
    default:
      return fromCharCode(a, b, c, d, e, f, g);
  }
}

/**
 * Messages up to this size have all their ASCII strings cut from one string of the whole input:
 * one native call per message instead of one per string (a spawn reply has eight strings), and a
 * slice beats building a short string from char codes (spawn reply decode 850 → 650 ns, Node 20).
 * The cut strings keep that text alive while they live, hence the cap.
 */
const MESSAGE_TEXT_MAX = 64 * 1024;

/** The str of `len` bytes at r.pos, strictly decoded; null when it is not valid UTF-8. */
function sliceAscii(r: Reader, len: number, slice: Latin1Slice): string | null {
  const buf = r.buf;
  const start = r.pos;
  const end = start + len;
  if (!isAscii(buf, start, end)) return decodeWithTextDecoder(buf, start, len);
  return (r.text ??= slice.call(buf, 0, r.end)).slice(start, end);
}

/** Reads the body of a str of `len` bytes at r.pos. */
export function readStrBody(r: Reader, len: number): string {
  if (len > r.end - r.pos) truncated(r);
  charge(r, COST_STRING + len);
  // In a small message every string of 8+ bytes is cut from the one latin1 text of the whole
  // message (a short slice is a plain copy, cheaper than building it 8 char codes at a time);
  // shorter ones are one fromCharCode call, and a message of only such strings makes no text.
  // In a big message only long strings get their own native call.
  const s =
    latin1Slice !== null && (r.end <= MESSAGE_TEXT_MAX ? len > ONE_CALL_STRING : len > SHORT_STRING)
      ? r.end <= MESSAGE_TEXT_MAX
        ? sliceAscii(r, len, latin1Slice)
        : sliceAsciiAlone(r, len, latin1Slice)
      : decodeUtf8(r.buf, r.pos, len);
  if (s === null) fail(r, 'string is not valid UTF-8');
  r.pos += len;
  return s;
}

/** The long str of `len` bytes at r.pos of a big message, by its own native call; null when not valid UTF-8. */
function sliceAsciiAlone(r: Reader, len: number, slice: Latin1Slice): string | null {
  const buf = r.buf;
  const start = r.pos;
  const end = start + len;
  if (!isAscii(buf, start, end)) return decodeWithTextDecoder(buf, start, len);
  return slice.call(buf, start, end);
}

// ---- integers ----------------------------------------------------------------------------------

const TWO_32 = 0x100000000;

/**
 * Reads the integer whose marker `m` (0xcc-0xd3) was just consumed: a number when it is a safe
 * integer, else a bigint.
 */
export function readIntBody(r: Reader, m: number): number | bigint {
  const b = r.buf;
  switch (m) {
    case 0xcc:
      return nextByte(r);
    case 0xcd:
      return u16(r);
    case 0xce:
      return u32(r);
    case 0xcf: {
      need(r, 8);
      const p = r.pos;
      const hi = u32(r);
      const lo = u32(r);
      if (hi < 0x200000) return hi * TWO_32 + lo;
      // One BigInt made by the engine, not three made by shifts: several times faster.
      return bigIntAt(r, p, false);
    }
    case 0xd0: {
      const v = nextByte(r);
      return v > 0x7f ? v - 0x100 : v;
    }
    case 0xd1: {
      const v = u16(r);
      return v > 0x7fff ? v - 0x10000 : v;
    }
    case 0xd2: {
      need(r, 4);
      const p = r.pos;
      r.pos = p + 4;
      return (
        ((b[p] as number) << 24) |
        ((b[p + 1] as number) << 16) |
        ((b[p + 2] as number) << 8) |
        (b[p + 3] as number)
      );
    }
    default: {
      // 0xd3 int64
      need(r, 8);
      const p = r.pos;
      const hi =
        ((b[p] as number) << 24) |
        ((b[p + 1] as number) << 16) |
        ((b[p + 2] as number) << 8) |
        (b[p + 3] as number);
      r.pos = p + 4;
      const lo = u32(r);
      if (hi >= -0x200000 && hi < 0x200000) {
        const v = hi * TWO_32 + lo;
        if (Number.isSafeInteger(v)) return v;
      }
      return bigIntAt(r, p, true);
    }
  }
}

/**
 * The 64-bit integer at byte `p` as a BigInt, charged at {@link COST_BIGINT}: a message may hold
 * only so many (making one takes ~100 ns, far more than any other number).
 */
function bigIntAt(r: Reader, p: number, signed: boolean): bigint {
  charge(r, COST_BIGINT);
  return signed ? view(r).getBigInt64(p) : view(r).getBigUint64(p);
}

export function readFloatBody(r: Reader, m: number): number {
  if (m === 0xca) {
    need(r, 4);
    const v = view(r).getFloat32(r.pos);
    r.pos += 4;
    return v;
  }
  need(r, 8);
  const v = view(r).getFloat64(r.pos);
  r.pos += 8;
  return v;
}
