/**
 * UUID text <-> 16 bytes, without regexes. Text forms accepted are the ones the Rust `uuid` crate's
 * `Uuid::parse_str` accepts: hyphenated (36), simple 32 hex digits, `{hyphenated}` and
 * `urn:uuid:hyphenated` (lowercase prefix); hex digits in either case.
 */

/** Hex digit value by char code, -1 for anything else. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x61 + i] = 10 + i;
  HEX_VALUE[0x41 + i] = 10 + i;
}

/** Offsets of the 16 hex pairs in the hyphenated form. */
const HYPHENATED_PAIRS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34] as const;
const HYPHEN = 0x2d;
const URN_PREFIX = 'urn:uuid:';

function hexPairFromString(s: string, i: number): number {
  const hi = s.charCodeAt(i);
  const lo = s.charCodeAt(i + 1);
  if (hi > 0xff || lo > 0xff) return -1;
  const h = HEX_VALUE[hi] as number;
  const l = HEX_VALUE[lo] as number;
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

function hexPairFromBytes(b: Uint8Array, i: number): number {
  const h = HEX_VALUE[b[i] as number] as number;
  const l = HEX_VALUE[b[i + 1] as number] as number;
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

/**
 * Parses UUID text into out[off..off+16). Returns false when `s` is not a UUID in an accepted form.
 */
export function parseUuidString(s: string, out: Uint8Array, off: number): boolean {
  const len = s.length;
  let base: number;
  if (len === 36) base = 0;
  else if (len === 32) {
    for (let k = 0; k < 16; k++) {
      const v = hexPairFromString(s, k * 2);
      if (v < 0) return false;
      out[off + k] = v;
    }
    return true;
  } else if (len === 38 && s.charCodeAt(0) === 0x7b && s.charCodeAt(37) === 0x7d) base = 1;
  else if (len === 45 && s.startsWith(URN_PREFIX)) base = 9;
  else return false;
  if (
    s.charCodeAt(base + 8) !== HYPHEN ||
    s.charCodeAt(base + 13) !== HYPHEN ||
    s.charCodeAt(base + 18) !== HYPHEN ||
    s.charCodeAt(base + 23) !== HYPHEN
  ) {
    return false;
  }
  for (let k = 0; k < 16; k++) {
    const v = hexPairFromString(s, base + (HYPHENATED_PAIRS[k] as number));
    if (v < 0) return false;
    out[off + k] = v;
  }
  return true;
}

const URN_BYTES = [0x75, 0x72, 0x6e, 0x3a, 0x75, 0x75, 0x69, 0x64, 0x3a] as const;

/**
 * Parses UUID text given as UTF-8 bytes b[start..start+len) into out[0..16). Returns false when the
 * bytes are not a UUID in an accepted form.
 */
export function parseUuidBytes(b: Uint8Array, start: number, len: number, out: Uint8Array): boolean {
  let base: number;
  if (len === 36) base = start;
  else if (len === 32) {
    for (let k = 0; k < 16; k++) {
      const v = hexPairFromBytes(b, start + k * 2);
      if (v < 0) return false;
      out[k] = v;
    }
    return true;
  } else if (len === 38 && b[start] === 0x7b && b[start + 37] === 0x7d) base = start + 1;
  else if (len === 45) {
    for (let k = 0; k < 9; k++) if (b[start + k] !== URN_BYTES[k]) return false;
    base = start + 9;
  } else return false;
  if (
    b[base + 8] !== HYPHEN ||
    b[base + 13] !== HYPHEN ||
    b[base + 18] !== HYPHEN ||
    b[base + 23] !== HYPHEN
  ) {
    return false;
  }
  for (let k = 0; k < 16; k++) {
    const v = hexPairFromBytes(b, base + (HYPHENATED_PAIRS[k] as number));
    if (v < 0) return false;
    out[k] = v;
  }
  return true;
}

/** Lowercase hex digit char codes. */
const HEX_CHAR = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_CHAR[i] = '0123456789abcdef'.charCodeAt(i);

function hi(b: Uint8Array, i: number): number {
  return HEX_CHAR[(b[i] as number) >> 4] as number;
}
function lo(b: Uint8Array, i: number): number {
  return HEX_CHAR[(b[i] as number) & 15] as number;
}

/** Formats b[off..off+16) as 36-char lowercase hyphenated text (one flat string, no concatenation). */
export function formatUuid(b: Uint8Array, off: number): string {
  const o = off;
  // prettier-ignore
  return String.fromCharCode(
    hi(b, o), lo(b, o), hi(b, o + 1), lo(b, o + 1), hi(b, o + 2), lo(b, o + 2), hi(b, o + 3), lo(b, o + 3),
    HYPHEN,
    hi(b, o + 4), lo(b, o + 4), hi(b, o + 5), lo(b, o + 5),
    HYPHEN,
    hi(b, o + 6), lo(b, o + 6), hi(b, o + 7), lo(b, o + 7),
    HYPHEN,
    hi(b, o + 8), lo(b, o + 8), hi(b, o + 9), lo(b, o + 9),
    HYPHEN,
    hi(b, o + 10), lo(b, o + 10), hi(b, o + 11), lo(b, o + 11), hi(b, o + 12), lo(b, o + 12),
    hi(b, o + 13), lo(b, o + 13), hi(b, o + 14), lo(b, o + 14), hi(b, o + 15), lo(b, o + 15),
  );
}

// ---- caches: agent ids repeat in almost every message, so both directions keep a small cache ----

const DECODE_CACHE_SLOTS = 256;
const decodeCacheWords = new Int32Array(DECODE_CACHE_SLOTS * 4);
const decodeCacheText: (string | undefined)[] = new Array<string | undefined>(DECODE_CACHE_SLOTS).fill(
  undefined,
);

function word(b: Uint8Array, p: number): number {
  return (
    ((b[p] as number) << 24) |
    ((b[p + 1] as number) << 16) |
    ((b[p + 2] as number) << 8) |
    (b[p + 3] as number)
  );
}

/** formatUuid with a direct-mapped cache keyed by the 16 bytes (compared exactly on a hit). */
export function formatUuidCached(b: Uint8Array, off: number): string {
  const w0 = word(b, off);
  const w1 = word(b, off + 4);
  const w2 = word(b, off + 8);
  const w3 = word(b, off + 12);
  let h = w0 ^ w1 ^ w2 ^ w3;
  h = (h ^ (h >>> 16)) & 0xffff;
  const slot = (h ^ (h >>> 8)) & (DECODE_CACHE_SLOTS - 1);
  const k = slot * 4;
  const hit = decodeCacheText[slot];
  if (
    hit !== undefined &&
    decodeCacheWords[k] === w0 &&
    decodeCacheWords[k + 1] === w1 &&
    decodeCacheWords[k + 2] === w2 &&
    decodeCacheWords[k + 3] === w3
  ) {
    return hit;
  }
  const text = formatUuid(b, off);
  decodeCacheWords[k] = w0;
  decodeCacheWords[k + 1] = w1;
  decodeCacheWords[k + 2] = w2;
  decodeCacheWords[k + 3] = w3;
  decodeCacheText[slot] = text;
  return text;
}

const ENCODE_CACHE_MAX = 512;
const encodeCache = new Map<string, Uint8Array>();

/**
 * The 16 bytes of UUID text (any accepted form), or null when it is not a UUID. Results are cached
 * by the text (bounded); the returned array must not be modified.
 */
export function uuidBytesCached(s: string): Uint8Array | null {
  let bytes = encodeCache.get(s);
  if (bytes !== undefined) return bytes;
  bytes = new Uint8Array(16);
  if (!parseUuidString(s, bytes, 0)) return null;
  if (encodeCache.size >= ENCODE_CACHE_MAX) encodeCache.clear();
  encodeCache.set(s, bytes);
  return bytes;
}

/** Parses UUID text (any accepted form) and returns it as lowercase hyphenated text, or null. */
export function normalizeUuid(s: string): string | null {
  const bytes = new Uint8Array(16);
  return parseUuidString(s, bytes, 0) ? formatUuid(bytes, 0) : null;
}
