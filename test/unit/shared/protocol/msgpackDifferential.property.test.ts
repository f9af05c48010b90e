/**
 * Our codec against `@msgpack/msgpack` (shared/protocol/codec/README.md says why we do not use it):
 * for the same positional arrays the two encoders write the same bytes, and the library reads our
 * bytes back to the same values, wherever both are defined. Then every divergence that README lists,
 * pinned, so a change on either side shows up here.
 *
 * "Where both are defined": the positional array of a valid message (normalized: defaults filled,
 * None as nil, integers as number when safe and bigint beyond 2^53), handed to the library as
 * `toLibraryValue` makes it (uuids as 16-byte bin, maps as objects, 64-bit integers as bigint),
 * encoded with `useBigInt64` (so u64/i64 beyond 2^53 encode at all), `sortKeys` (so "10" comes
 * before "9" as in UTF-8 byte order) and `forceFloat32: false` (every float as float64, as
 * serde_json writes f64). Left out, each by a precondition: `-0` (the library writes the int 0),
 * maps whose keys sort differently by UTF-16 units than by UTF-8 bytes (a key from U+E000..U+FFFF
 * against one above U+FFFF), and, for decoding only, a `__proto__` key (the library refuses it).
 * Strings never hold lone surrogates (the arbitraries make none).
 */
import { Decoder, Encoder, ExtData, decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type ZmqMessage } from '../../../../shared/protocol';
import { messages, normalize } from './arbitraries';
import { expectSame, fromHex, messageWire, toHex } from './helpers';
import { mp, toLibraryValue, w } from './msgpack-builder';

const RUNS = 150;

const encoder = new Encoder({ useBigInt64: true, sortKeys: true, forceFloat32: false });
const decoder = new Decoder({ useBigInt64: true });

/** The message as the positional array `rmp_serde` writes, as plain JS values for the library. */
function positional(msg: ZmqMessage): unknown {
  const arrayForm = { mapProbability: 0, uuidTextProbability: 0, omitProbability: 0, random: () => 0 };
  return toLibraryValue(messageWire(msg, arrayForm));
}

const utf8 = new TextEncoder();
const byUtf16 = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byUtf8 = (a: string, b: string): number => Buffer.compare(utf8.encode(a), utf8.encode(b));

/** Calls `visit` on every value inside `v` (itself included). */
function walk(v: unknown, visit: (x: unknown) => void): void {
  visit(v);
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const x of Object.values(v)) walk(x, visit);
  }
}

/** Whether both encoders define the bytes of `plain` alike (see the file comment). */
function bothEncode(plain: unknown): boolean {
  let ok = true;
  walk(plain, (x) => {
    if (Object.is(x, -0)) ok = false;
    else if (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array)) {
      const keys = Object.keys(x);
      const a = [...keys].sort(byUtf16);
      const b = [...keys].sort(byUtf8);
      if (a.some((k, i) => k !== b[i])) ok = false;
    }
  });
  return ok;
}

function hasProtoKey(plain: unknown): boolean {
  let found = false;
  walk(plain, (x) => {
    if (x !== null && typeof x === 'object' && Object.hasOwn(x, '__proto__')) found = true;
  });
  return found;
}

/** What the library's decoder gives for `plain`: 64-bit ints come back as bigint whatever their size. */
function canonicalInts(v: unknown): unknown {
  if (typeof v === 'bigint')
    return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
  if (Array.isArray(v)) return v.map(canonicalInts);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = canonicalInts(x);
  return out;
}

describe.each(Object.entries(messages))('%s: our codec and @msgpack/msgpack', (_type, arb) => {
  const normalized = arb.map((raw) => normalize(raw as unknown as ZmqMessage));

  it('write the same bytes for the same positional array', () => {
    fc.assert(
      fc.property(normalized, (msg) => {
        const plain = positional(msg);
        fc.pre(bothEncode(plain));
        expect(toHex(encodeMessage(msg))).toBe(toHex(encoder.encode(plain)));
      }),
      { numRuns: RUNS },
    );
  });

  it('read our bytes to the same values', () => {
    fc.assert(
      fc.property(normalized, (msg) => {
        const plain = positional(msg);
        fc.pre(bothEncode(plain) && !hasProtoKey(plain));
        expectSame(canonicalInts(decoder.decode(encodeMessage(msg))), canonicalInts(plain));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('known divergences (shared/protocol/codec/README.md)', () => {
  const A = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const spawn = (timeout: bigint): ZmqMessage => ({
    type: 'spawn_request',
    request_id: 'r',
    config: { name: '', model_backend: '', task: '', environment: {} },
    timeout_secs: timeout,
  });
  const withPayload = (payload: unknown): ZmqMessage =>
    ({
      type: 'control_command',
      request_id: 'r',
      agent_id: A,
      command_type: 'custom_action',
      payload,
    }) as ZmqMessage;
  /** Hex of our encoding of `payload`, without the control_command around it. */
  const payloadHex = (payload: unknown): string => {
    const prefix = toHex(encodeMessage(withPayload(null))).slice(0, -2);
    return toHex(encodeMessage(withPayload(payload))).slice(prefix.length);
  };
  const lib = (v: unknown, options?: { useBigInt64?: boolean; sortKeys?: boolean }): string =>
    toHex(encode(v, options));
  const refuses = (bytes: Uint8Array, message: RegExp): void => {
    expect(() => decodeMessage(bytes)).toThrow(message);
  };

  it('bigints: smallest form for us; 9 bytes, or a throw, for the library', () => {
    expect(toHex(encodeMessage(spawn(2n))).endsWith('02c0')).toBe(true);
    expect(lib(2n, { useBigInt64: true })).toBe('cf0000000000000002');
    expect(() => encode(2n)).toThrow(/Unrecognized object/);
    // And with useBigInt64 a safe number that takes 64 bits becomes a float.
    expect(lib(2 ** 32, { useBigInt64: true })).toBe('cb41f0000000000000');
  });

  it('a whole number beyond 2^53 in JSON: an int for us, float64 for the library', () => {
    expect(payloadHex(2 ** 60)).toBe('cf1000000000000000');
    expect(lib(2 ** 60)).toBe('cb43b0000000000000');
  });

  it('-0 in JSON: float64 -0.0 for us, the int 0 for the library', () => {
    expect(payloadHex(-0)).toBe('cb8000000000000000');
    expect(lib(-0)).toBe('00');
  });

  it('map keys: UTF-8 byte order for us; insertion order or UTF-16 order for the library', () => {
    const nine = toHex(mp('9'));
    const ten = toHex(mp('10'));
    expect(payloadHex({ 9: 1, 10: 2 })).toBe(`82${ten}02${nine}01`);
    expect(lib({ 9: 1, 10: 2 })).toBe(`82${nine}01${ten}02`);
    const bmp = toHex(mp('\uE000'));
    const astral = toHex(mp('\u{10000}'));
    expect(payloadHex({ '\u{10000}': 1, '\uE000': 2 })).toBe(`82${bmp}02${astral}01`);
    expect(lib({ '\u{10000}': 1, '\uE000': 2 }, { sortKeys: true })).toBe(`82${astral}01${bmp}02`);
  });

  it('a lone surrogate: U+FFFD for us, CESU bytes Rust rejects for the library', () => {
    expect(payloadHex('\ud800')).toBe('a3efbfbd');
    expect(lib('\ud800')).toBe('a3eda080');
  });

  it('a repeated struct field: rejected by us, last one wins for the library', () => {
    const bytes = mp(w.map('type', 'health_check_request', 'request_id', 'a', 'request_id', 'b'));
    refuses(bytes, /duplicate field `request_id`/);
    expect(decode(bytes)).toStrictEqual({ type: 'health_check_request', request_id: 'b' });
  });

  it('invalid UTF-8: rejected by us, decoded to another character by the library', () => {
    refuses(mp(['health_check_request', w.strBytes('c328')]), /string is not valid UTF-8/);
    expect(decode(fromHex('a2c328'))).toBe('è');
  });

  it('an ext value: rejected by us, an ExtData or a Date for the library', () => {
    refuses(mp(['health_check_request', w.ext(5, '2a')]), /got an ext value/);
    refuses(mp(['health_check_request', w.ext(-1, '00000001')]), /msgpack timestamp ext/);
    expect(decode(fromHex('d4052a'))).toBeInstanceOf(ExtData);
    expect(decode(fromHex('d6ff00000001'))).toStrictEqual(new Date(1000));
  });

  it('u64 beyond 2^53: exact for us, rounded by the library without useBigInt64', () => {
    const big = 2n ** 53n + 1n;
    const bytes = mp(['spawn_request', 'r', [], big]);
    expect((decodeMessage(bytes) as { timeout_secs: unknown }).timeout_secs).toBe(big);
    expect(decode(mp(big))).toBe(2 ** 53);
  });

  it('map keys that are not strings, and __proto__', () => {
    refuses(mp(withPayloadWire(w.map(1, 2))), /JSON object keys must be strings/);
    expect(decode(mp(w.map(1, 2)))).toStrictEqual({ 1: 2 });
    const proto = decodeMessage(mp(withPayloadWire(w.map('__proto__', 1)))) as { payload: object };
    expect(Object.keys(proto.payload)).toEqual(['__proto__']);
    expect(() => decode(mp(w.map('__proto__', 1)))).toThrow(/__proto__/);
  });

  it('bytes after the message: ignored by us (rmp_serde::from_slice), an error for the library', () => {
    const bytes = Uint8Array.from([...mp(['health_check_request', 'r']), 0x00]);
    expect(decodeMessage(bytes)).toStrictEqual({ type: 'health_check_request', request_id: 'r' });
    expect(() => decode(bytes)).toThrow(/Extra/);
  });

  function withPayloadWire(payload: ReturnType<typeof w.map>): Parameters<typeof mp>[0] {
    return ['control_command', 'r', w.uuid(A), 'custom_action', payload];
  }
});
