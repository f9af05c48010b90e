/**
 * Mutations of msgpack frames for the fuzzers: truncations, bit flips, interesting bytes,
 * inserted and deleted runs, splices of two frames, any value replaced by a value of another
 * type (wrong field types at every level), length prefixes that lie, random bytes, and the
 * multipart framing around a frame. Everything is drawn from a seeded {@link Prng}.
 */
import { encode as encodeMapForm } from '@msgpack/msgpack';
import { encodeMessage, type ZmqMessage } from '../shared/protocol';
import { fixedBodyLength } from '../server/rawRequest';
import { MsgpackWriter } from './msgpackWriter';
import type { Prng } from './prng';
import { sampleText } from './messageSamples';

/** Where one msgpack value sits in a frame: bytes [start, end). */
export interface ValueSpan {
  readonly start: number;
  readonly end: number;
}

/** Big-endian unsigned integer of `n` bytes at `at` (missing bytes read as 0). */
function uintAt(bytes: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + (bytes[at + i] ?? 0);
  return v;
}

/** Length-prefix bytes of the 8, 16 and 32-bit forms of bin and ext. */
const PREFIX_BYTES = [1, 2, 4] as const;

/** Bytes after the marker of a scalar (length prefix included), or -1 for a container, str or 0xc1. */
function scalarSize(bytes: Uint8Array, at: number, m: number): number {
  const len = (n: number): number => uintAt(bytes, at + 1, n);
  if (m < 0x80 || m >= 0xe0) return 0;
  if (m >= 0xc4 && m <= 0xc9) {
    // bin 8/16/32 (0xc4–0xc6), then ext 8/16/32 (0xc7–0xc9), which add their type byte.
    const n = PREFIX_BYTES[(m - 0xc4) % 3] as number;
    return n + len(n) + (m >= 0xc7 ? 1 : 0);
  }
  return fixedBodyLength(m);
}

/**
 * The spans of every value in a well-formed frame (the message itself first, then its fields
 * and their contents, map keys included), up to `limit` spans. Stops quietly at anything it
 * cannot parse; meant for frames the codec wrote.
 */
export function valueSpans(bytes: Uint8Array, limit = 4096): ValueSpan[] {
  const spans: ValueSpan[] = [];
  const walk = (at: number, depth: number): number => {
    if (at >= bytes.length || depth > 64 || spans.length >= limit) return -1;
    const index = spans.length;
    spans.push({ start: at, end: at });
    const m = bytes[at] as number;
    let pos = at + 1;
    let children = -1;
    if ((m & 0xf0) === 0x90) children = m & 0x0f;
    else if ((m & 0xf0) === 0x80) children = (m & 0x0f) * 2;
    else if (m === 0xdc || m === 0xde) {
      children = uintAt(bytes, pos, 2) * (m === 0xde ? 2 : 1);
      pos += 2;
    } else if (m === 0xdd || m === 0xdf) {
      children = uintAt(bytes, pos, 4) * (m === 0xdf ? 2 : 1);
      pos += 4;
    }
    if (children >= 0) {
      // A count larger than the bytes left is a lie: stop rather than loop over it.
      if (children > bytes.length - pos) return -1;
      for (let i = 0; i < children; i++) {
        pos = walk(pos, depth + 1);
        if (pos < 0) return -1;
      }
    } else if ((m & 0xe0) === 0xa0) pos += m & 0x1f;
    else if (m === 0xd9) pos += 1 + uintAt(bytes, pos, 1);
    else if (m === 0xda) pos += 2 + uintAt(bytes, pos, 2);
    else if (m === 0xdb) pos += 4 + uintAt(bytes, pos, 4);
    else {
      const size = scalarSize(bytes, at, m);
      if (size < 0) return -1;
      pos += size;
    }
    if (pos > bytes.length) return -1;
    spans[index] = { start: at, end: pos };
    return pos;
  };
  walk(0, 0);
  return spans.filter((s) => s.end > s.start);
}

/** A random msgpack value of any type, valid or not (invalid UTF-8, 0xc1, lying lengths…). */
export function randomValue(prng: Prng, depth = 2): Uint8Array {
  const w = new MsgpackWriter();
  writeRandomValue(w, prng, depth);
  return w.bytes();
}

function writeRandomValue(w: MsgpackWriter, prng: Prng, depth: number): void {
  switch (prng.int(depth > 0 ? 24 : 20)) {
    case 0:
      w.nil();
      return;
    case 1:
      w.bool(prng.chance(0.5));
      return;
    case 2:
      w.uint(prng.int(200));
      return;
    case 3:
      w.byte(0xff); // -1
      return;
    case 4:
      w.byte(0xd3).be(0x8000000000000000n, 8); // i64 min
      return;
    case 5:
      w.uint(2n ** 64n - 1n);
      return;
    case 6:
      w.byte(0xcb).raw([0x7f, 0xf8, 0, 0, 0, 0, 0, 0]); // NaN
      return;
    case 7:
      w.byte(0xca).raw([0x3f, 0xc0, 0, 0]); // 1.5f
      return;
    case 8:
      w.str(sampleText(prng));
      return;
    case 9:
      w.strHeader(3).raw([0xff, 0xfe, 0x80]); // not UTF-8
      return;
    case 10:
      w.bin(prng.bytes(prng.pick([0, 15, 16, 17])));
      return;
    case 11:
      w.byte(0xd6).byte(0xff).raw(prng.bytes(4)); // timestamp ext (a JS Date)
      return;
    case 12:
      w.byte(0xc7).byte(2).byte(7).raw([1, 2]); // ext8
      return;
    case 13:
      w.byte(0xc1);
      return;
    case 14:
      w.byte(prng.pick([0xdd, 0xdf, 0xdb, 0xc6, 0xc9])).be(0xffffffff, 4); // a length that lies
      return;
    case 15:
      w.array(0);
      return;
    case 16:
      w.map(0);
      return;
    case 17:
      w.str(prng.uuid());
      return;
    case 18:
      w.uuid(prng.uuid());
      return;
    case 19:
      w.str(prng.pick(['pause', 'running', 'stdout', 'both', 'heartbeat', 'health_check_request', 'type']));
      return;
    case 20:
    case 21: {
      const n = prng.int(4);
      w.array(n);
      for (let i = 0; i < n; i++) writeRandomValue(w, prng, depth - 1);
      return;
    }
    default: {
      const n = prng.int(4);
      w.map(n);
      for (let i = 0; i < n; i++) {
        if (prng.chance(0.8)) w.str(prng.pick(['type', 'request_id', 'agent_id', 'x', sampleText(prng)]));
        else writeRandomValue(w, prng, 0);
        writeRandomValue(w, prng, depth - 1);
      }
    }
  }
}

const INTERESTING = [
  0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc4, 0xd9, 0xdb, 0xdd, 0xdf, 0xe0, 0xff,
];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The payload mutations, by name (the fuzzers report counts per name). */
export const MUTATIONS: Readonly<
  Record<string, (prng: Prng, bytes: Uint8Array, other: Uint8Array) => Uint8Array>
> = {
  truncate: (prng, b) => b.slice(0, prng.int(b.length)),
  'bit-flips': (prng, b) => {
    const out = b.slice();
    const n = prng.range(1, 8);
    for (let i = 0; i < n && out.length > 0; i++) {
      const at = prng.int(out.length);
      out[at] = (out[at] as number) ^ (1 << prng.int(8));
    }
    return out;
  },
  'interesting-bytes': (prng, b) => {
    const out = b.slice();
    const n = prng.range(1, 4);
    for (let i = 0; i < n && out.length > 0; i++) out[prng.int(out.length)] = prng.pick(INTERESTING);
    return out;
  },
  'insert-run': (prng, b) => {
    const at = prng.int(b.length + 1);
    return concat(b.subarray(0, at), prng.bytes(prng.range(1, 16)), b.subarray(at));
  },
  'delete-run': (prng, b) => {
    const at = prng.int(b.length + 1);
    return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + prng.range(1, 16))));
  },
  'duplicate-run': (prng, b) => {
    const at = prng.int(b.length + 1);
    const end = Math.min(b.length, at + prng.range(1, 32));
    return concat(b.subarray(0, end), b.subarray(at, end), b.subarray(end));
  },
  splice: (prng, b, other) =>
    concat(b.subarray(0, prng.int(b.length + 1)), other.subarray(prng.int(other.length + 1))),
  'wrong-type': (prng, b) => {
    // Any value but the message itself: a field, an element, a map key, a nested field.
    const spans = valueSpans(b).slice(1);
    if (spans.length === 0) return b;
    const s = prng.pick(spans);
    return concat(b.subarray(0, s.start), randomValue(prng), b.subarray(s.end));
  },
  'drop-value': (prng, b) => {
    const spans = valueSpans(b).slice(1);
    if (spans.length === 0) return b;
    const s = prng.pick(spans);
    return concat(b.subarray(0, s.start), b.subarray(s.end));
  },
  'trailing-garbage': (prng, b) => concat(b, prng.bytes(prng.range(1, 64))),
};

const MUTATION_NAMES = Object.keys(MUTATIONS);

/**
 * One or more mutations of `bytes` (`other` is material for splices).
 * @returns the mutated bytes and the name of the (first) mutation
 */
export function mutate(
  prng: Prng,
  bytes: Uint8Array,
  other: Uint8Array,
): { bytes: Uint8Array; kind: string } {
  const kind = prng.pick(MUTATION_NAMES);
  let out = (MUTATIONS[kind] as (p: Prng, b: Uint8Array, o: Uint8Array) => Uint8Array)(prng, bytes, other);
  while (prng.chance(0.25)) {
    const next = MUTATIONS[prng.pick(MUTATION_NAMES)] as (
      p: Prng,
      b: Uint8Array,
      o: Uint8Array,
    ) => Uint8Array;
    out = next(prng, out, other);
  }
  return { bytes: out, kind };
}

/** A message in map form (`{type, field: value, …}`), as a hand-written client sends it. */
export function mapForm(message: ZmqMessage): Uint8Array {
  return encodeMapForm(message, { useBigInt64: true });
}

/** The message in array form (the codec's) or, one time in five, map form. */
export function encodeEitherForm(prng: Prng, message: ZmqMessage): Uint8Array {
  return prng.chance(0.2) ? mapForm(message) : encodeMessage(message);
}

const EMPTY = new Uint8Array(0);

/**
 * Multipart framing around a payload that a DEALER may get wrong: no delimiter, a non-empty
 * delimiter, extra frames, only the delimiter, an empty payload.
 */
export function junkFraming(prng: Prng, payload: Uint8Array): Uint8Array[] {
  switch (prng.int(7)) {
    case 0:
      return [payload];
    case 1:
      return [prng.bytes(prng.range(1, 8)), payload];
    case 2:
      return [EMPTY, payload, prng.bytes(prng.int(32))];
    case 3:
      return [EMPTY];
    case 4:
      return [EMPTY, EMPTY];
    case 5:
      return [EMPTY, payload, payload, payload];
    default:
      return Array.from({ length: prng.range(2, 12) }, () => prng.bytes(prng.int(24)));
  }
}
