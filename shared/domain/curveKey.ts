/**
 * CurveZMQ keys as people handle them: 40 characters of Z85 text (ZeroMQ RFC 32), the form
 * `zmq_curve_keypair` and zeromq.js's `curveKeyPair()` print. One place for the format, so
 * the server's `allow`, the console's profile form and ctl's `--server-key` accept exactly
 * the same keys.
 */

/** Characters of a Z85 text key. */
export const CURVE_KEY_LENGTH = 40;

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const DECODE = new Map<string, number>(
  Array.from({ length: ALPHABET.length }, (_, i) => [ALPHABET.charAt(i), i]),
);

/** A key that is not 40 Z85 characters; the message says what is wrong. */
export class CurveKeyError extends Error {
  override readonly name = 'CurveKeyError';
}

/**
 * Checks the text of a public key (surrounding whitespace removed) and returns it.
 * @param what how to name the key in the error, e.g. "server key"
 * @throws CurveKeyError naming the length or the first character that is not Z85
 */
export function parseCurveKey(text: string, what = 'key'): string {
  const key = text.trim();
  if (key.length !== CURVE_KEY_LENGTH) {
    throw new CurveKeyError(
      `${what} must be ${CURVE_KEY_LENGTH} characters of Z85 text (a CurveZMQ public key), got ${key.length}`,
    );
  }
  for (let i = 0; i < key.length; i++) {
    const c = key.charAt(i);
    if (!DECODE.has(c)) {
      throw new CurveKeyError(`${what} has '${c}' at position ${i + 1}, which is not a Z85 character`);
    }
  }
  // 40 characters are 8 groups of 5; a group above 2^32 - 1 is not a key.
  for (let g = 0; g < key.length; g += 5) {
    if (groupValue(key, g) > 0xffffffff) {
      throw new CurveKeyError(`${what} is not valid Z85 (characters ${g + 1}-${g + 5} exceed 32 bits)`);
    }
  }
  return key;
}

/** Whether `text` is a well-formed Z85 key (no whitespace around it). */
export function isCurveKey(text: string): boolean {
  try {
    return parseCurveKey(text) === text;
  } catch {
    return false;
  }
}

/**
 * Z85-encodes bytes whose count is a multiple of 4 (a 32-byte key gives 40 characters).
 * @throws CurveKeyError when the length is not a multiple of 4
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new CurveKeyError(`Z85 needs a multiple of 4 bytes, got ${bytes.length}`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value =
      ((bytes[i] ?? 0) * 0x1000000 + ((bytes[i + 1] ?? 0) << 16)) |
      ((bytes[i + 2] ?? 0) << 8) |
      (bytes[i + 3] ?? 0);
    value >>>= 0;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = ALPHABET.charAt(value % 85) + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/**
 * Decodes a Z85 key to its 32 bytes.
 * @throws CurveKeyError when `key` is not a well-formed key
 */
export function z85Decode(key: string): Uint8Array {
  const text = parseCurveKey(key);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let g = 0, o = 0; g < text.length; g += 5, o += 4) {
    const value = groupValue(text, g);
    out[o] = Math.floor(value / 0x1000000) & 0xff;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/**
 * A short, stable name for a public key, for cards, logs and comparing by eye: the first 8
 * bytes of the key as hex in groups of four, e.g. `3f9a:0c12:77de:b401`. A public key is
 * already uniformly random, so its prefix identifies it as well as a hash prefix would, and an
 * operator can check it against the key itself.
 * @throws CurveKeyError when `key` is not a well-formed key
 */
export function curveKeyFingerprint(key: string): string {
  const bytes = z85Decode(key);
  const hex = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 4)}:${hex.slice(4, 8)}:${hex.slice(8, 12)}:${hex.slice(12, 16)}`;
}

/**
 * The name a client key gets on a server's allow list when none is chosen: `prefix-` and the
 * first 8 hex digits of its fingerprint, e.g. `console-3f9a0c12`. Names are unique per server,
 * so a fixed name would be refused for the second key.
 * @param prefix `console` for a Descartes Console, `client` for a key of unknown origin
 * @throws CurveKeyError when `key` is not a well-formed key
 */
export function clientKeyName(key: string, prefix: 'console' | 'client'): string {
  return `${prefix}-${curveKeyFingerprint(key).replaceAll(':', '').slice(0, 8)}`;
}

/** The command an operator runs on a server's machine to admit a console's public key. */
export function allowCommand(clientPublicKey: string, name?: string): string {
  // Z85 has characters a shell would read ($, &, !, *, ?, <, >, (, ), [, ], {, }, #…): quote it.
  const quoted = `'${clientPublicKey}'`;
  return `npm run server -- allow ${quoted}${name ? ` --name ${name}` : ''}`;
}

function groupValue(text: string, at: number): number {
  let value = 0;
  for (let j = 0; j < 5; j++) value = value * 85 + (DECODE.get(text.charAt(at + j)) ?? 0);
  return value;
}
