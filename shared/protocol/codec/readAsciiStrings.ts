/**
 * The fast path for a `Vec<String>` (an output page: thousands of log lines): all of its strings
 * made by one TextDecoder call instead of one call each. A call costs ~150 ns whatever the
 * string's length, which made decoding a 1000-line page ~7× slower than its bytes need.
 *
 * How: the array's str headers are the only non-text bytes between its first and last string, so
 * a copy of that span with every header byte replaced by a space is pure text. When the copy
 * decodes (strict UTF-8) to exactly as many UTF-16 units as it has bytes, every byte was ASCII
 * (any other UTF-8 sequence makes fewer units than bytes), so each string is the slice of the big
 * string at its byte offsets. Anything else (a non-string element, a truncated array, the memory
 * budget running out, invalid UTF-8, a non-ASCII character) returns false having consumed and
 * charged nothing, and the caller reads the elements one by one, which fails or succeeds exactly as
 * it always did.
 */
import { COST_STRING, type Reader } from './reader';

/** Below this many strings the per-string path is as fast (the walk and the copy cost too). */
export const MIN_BATCH = 8;

/** Reused copy of the span; one grown past this for a big page is not kept. */
const KEEP_SCRATCH = 1024 * 1024;
let scratch = new Uint8Array(16 * 1024);

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const SPACE = 0x20;

/**
 * Reads `n` msgpack strs at r.pos into out[0..n) when they are all ASCII, charging the reader's
 * budget as the per-string path does; returns false (nothing read or charged) otherwise.
 */
export function readAsciiStrings(r: Reader, out: unknown[], n: number): boolean {
  const buf = r.buf;
  const start = r.pos;
  const end = spanEnd(buf, start, r.end, n);
  if (end < 0) return false;
  const size = end - start;
  const cost = n * COST_STRING + size;
  if (cost > r.budget) return false;
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  const copy = scratch;
  if (scratch.length > KEEP_SCRATCH) scratch = new Uint8Array(16 * 1024);
  copy.set(buf.subarray(start, end));
  for (let i = 0, p = 0; i < n; i++) {
    const h = HEADER_SIZE[copy[p] as number] as number;
    const next = p + h + bodyLength(copy, p);
    copy.fill(SPACE, p, p + h);
    p = next;
  }
  let text: string;
  try {
    text = decoder.decode(copy.subarray(0, size));
  } catch {
    return false; // invalid UTF-8: the per-string path says in which element
  }
  if (text.length !== size) return false;
  for (let i = 0, p = 0; i < n; i++) {
    const body = p + (HEADER_SIZE[buf[start + p] as number] as number);
    p = body + bodyLength(buf, start + p);
    out[i] = text.slice(body, p);
  }
  r.budget -= cost;
  r.pos = end;
  return true;
}

/** Size of the header a marker starts, by marker: 1-5 for the str markers, 0 for all others. */
const HEADER_SIZE = new Uint8Array(256);
HEADER_SIZE.fill(1, 0xa0, 0xc0);
HEADER_SIZE[0xd9] = 2;
HEADER_SIZE[0xda] = 3;
HEADER_SIZE[0xdb] = 5;

/** Byte length of the str whose whole header is at b[p]. */
function bodyLength(b: Uint8Array, p: number): number {
  const m = b[p] as number;
  if (m < 0xc0) return m & 0x1f;
  if (m === 0xd9) return b[p + 1] as number;
  if (m === 0xda) return ((b[p + 1] as number) << 8) | (b[p + 2] as number);
  return (
    (b[p + 1] as number) * 0x1000000 +
    (((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 8) | (b[p + 4] as number))
  );
}

/** Where `n` consecutive strs starting at b[p] end, or -1 when they are not all whole strs before `end`. */
function spanEnd(b: Uint8Array, p: number, end: number, n: number): number {
  for (let i = 0; i < n; i++) {
    const h = p < end ? (HEADER_SIZE[b[p] as number] as number) : 0;
    if (h === 0 || h > end - p) return -1;
    const len = bodyLength(b, p);
    if (len > end - p - h) return -1;
    p += h + len;
  }
  return p;
}
