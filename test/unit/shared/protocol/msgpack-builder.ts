/**
 * Hand-made msgpack for decoder tests. Plain JS values become their natural msgpack form (integers in
 * the smallest form, other numbers as float64, strings as str, arrays as arrays); the wrappers below
 * force anything else: maps with any keys in any order (duplicates too), bin, ext, a given int or str
 * marker, raw bytes.
 */
import { setOwn } from '../../../../shared/protocol/codec/decode';

class Raw {
  constructor(readonly bytes: Uint8Array) {}
}
class MapNode {
  constructor(readonly entries: (readonly [Wire, Wire])[]) {}
}
class Bin {
  constructor(readonly bytes: Uint8Array) {}
}
class Str {
  constructor(
    readonly bytes: Uint8Array,
    readonly marker: number | null,
  ) {}
}
class Int {
  constructor(
    readonly value: bigint,
    readonly marker: number,
  ) {}
}
class Float {
  constructor(
    readonly value: number,
    readonly bits: 32 | 64,
  ) {}
}
class Ext {
  constructor(
    readonly type: number,
    readonly data: Uint8Array,
  ) {}
}

export type Wire =
  null | boolean | number | bigint | string | Wire[] | Raw | MapNode | Bin | Str | Int | Float | Ext;

const utf8 = new TextEncoder();

function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export const w = {
  /** A map from flat key/value pairs, in the given order (keys may repeat, may be any value). */
  map: (...kv: Wire[]): MapNode => {
    const entries: [Wire, Wire][] = [];
    for (let i = 0; i < kv.length; i += 2) entries.push([kv[i] as Wire, kv[i + 1] as Wire]);
    return new MapNode(entries);
  },
  /** A map with string keys from an object, in its key order. */
  obj: (o: Record<string, Wire>): MapNode => new MapNode(Object.entries(o)),
  bin: (bytes: Uint8Array | string): Bin => new Bin(typeof bytes === 'string' ? hexBytes(bytes) : bytes),
  /** Pre-encoded msgpack bytes, copied as is. */
  raw: (hex: string): Raw => new Raw(hexBytes(hex)),
  /** A str with the given raw bytes (e.g. invalid UTF-8). */
  strBytes: (bytes: Uint8Array | string): Str =>
    new Str(typeof bytes === 'string' ? hexBytes(bytes) : bytes, null),
  /** A str with a forced header: 0xd9 (str8), 0xda (str16) or 0xdb (str32). */
  strAs: (marker: 0xd9 | 0xda | 0xdb, s: string): Str => new Str(utf8.encode(s), marker),
  /** An integer with a forced marker (0xcc-0xd3). */
  int: (value: number | bigint, marker: number): Int => new Int(BigInt(value), marker),
  f32: (x: number): Float => new Float(x, 32),
  f64: (x: number): Float => new Float(x, 64),
  ext: (type: number, data: Uint8Array | string): Ext =>
    new Ext(type, typeof data === 'string' ? hexBytes(data) : data),
  /** A uuid as bin8 of its 16 bytes. */
  uuid: (text: string): Bin => new Bin(hexBytes(text.replace(/-/g, ''))),
};

class Out {
  bytes: number[] = [];
  push(...b: number[]): void {
    for (const x of b) this.bytes.push(x & 0xff);
  }
  be(value: bigint, size: number): void {
    const u = BigInt.asUintN(size * 8, value);
    for (let i = size - 1; i >= 0; i--) this.bytes.push(Number((u >> BigInt(i * 8)) & 0xffn));
  }
  append(b: Uint8Array): void {
    for (const x of b) this.bytes.push(x);
  }
}

function writeInt(o: Out, v: bigint): void {
  if (v >= 0n) {
    if (v < 0x80n) o.push(Number(v));
    else if (v < 0x100n) o.push(0xcc, Number(v));
    else if (v < 0x10000n) {
      o.push(0xcd);
      o.be(v, 2);
    } else if (v < 0x100000000n) {
      o.push(0xce);
      o.be(v, 4);
    } else {
      o.push(0xcf);
      o.be(v, 8);
    }
  } else if (v >= -32n) o.push(Number(v));
  else if (v >= -0x80n) {
    o.push(0xd0);
    o.be(v, 1);
  } else if (v >= -0x8000n) {
    o.push(0xd1);
    o.be(v, 2);
  } else if (v >= -0x80000000n) {
    o.push(0xd2);
    o.be(v, 4);
  } else {
    o.push(0xd3);
    o.be(v, 8);
  }
}

const INT_SIZES: Record<number, number> = {
  0xcc: 1,
  0xcd: 2,
  0xce: 4,
  0xcf: 8,
  0xd0: 1,
  0xd1: 2,
  0xd2: 4,
  0xd3: 8,
};

function writeStr(o: Out, b: Uint8Array, marker: number | null): void {
  const n = b.length;
  const m = marker ?? (n < 32 ? 0xa0 : n < 0x100 ? 0xd9 : n < 0x10000 ? 0xda : 0xdb);
  if (m === 0xa0) o.push(0xa0 | n);
  else if (m === 0xd9) o.push(0xd9, n);
  else if (m === 0xda) {
    o.push(0xda);
    o.be(BigInt(n), 2);
  } else {
    o.push(0xdb);
    o.be(BigInt(n), 4);
  }
  o.append(b);
}

/**
 * The smallest header for `n` items: the fix form (`fix | n`, below 16) where the type has one, the
 * 8-bit form (`m8`, then n) where it has one, else `m16` + 2 bytes or `m16 + 1` + 4 bytes.
 */
function lengthHeader(o: Out, n: number, fix: number | null, m8: number | null, m16: number): void {
  if (fix !== null && n < 16) o.push(fix | n);
  else if (m8 !== null && n < 0x100) o.push(m8, n);
  else if (n < 0x10000) {
    o.push(m16);
    o.be(BigInt(n), 2);
  } else {
    o.push(m16 + 1);
    o.be(BigInt(n), 4);
  }
}

function write(o: Out, v: Wire): void {
  if (v === null) o.push(0xc0);
  else if (v === true) o.push(0xc3);
  else if (v === false) o.push(0xc2);
  else if (typeof v === 'number') {
    if (Number.isInteger(v) && !Object.is(v, -0)) writeInt(o, BigInt(v));
    else write(o, new Float(v, 64));
  } else if (typeof v === 'bigint') writeInt(o, v);
  else if (typeof v === 'string') writeStr(o, utf8.encode(v), null);
  else if (Array.isArray(v)) {
    lengthHeader(o, v.length, 0x90, null, 0xdc);
    for (const x of v) write(o, x);
  } else if (v instanceof Raw) o.append(v.bytes);
  else if (v instanceof MapNode) {
    lengthHeader(o, v.entries.length, 0x80, null, 0xde);
    for (const [k, x] of v.entries) {
      write(o, k);
      write(o, x);
    }
  } else if (v instanceof Bin) {
    lengthHeader(o, v.bytes.length, null, 0xc4, 0xc5);
    o.append(v.bytes);
  } else if (v instanceof Str) writeStr(o, v.bytes, v.marker);
  else if (v instanceof Int) {
    const size = INT_SIZES[v.marker];
    if (size === undefined) throw new Error(`not an int marker: ${v.marker}`);
    o.push(v.marker);
    o.be(v.value, size);
  } else if (v instanceof Float) {
    const dv = new DataView(new ArrayBuffer(8));
    if (v.bits === 32) {
      dv.setFloat32(0, v.value);
      o.push(0xca);
      o.append(new Uint8Array(dv.buffer, 0, 4));
    } else {
      dv.setFloat64(0, v.value);
      o.push(0xcb);
      o.append(new Uint8Array(dv.buffer, 0, 8));
    }
  } else {
    const n = v.data.length;
    const fix: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
    const fm = fix[n];
    if (fm !== undefined) o.push(fm, v.type);
    else if (n < 0x100) o.push(0xc7, n, v.type);
    else {
      o.push(0xc8);
      o.be(BigInt(n), 2);
      o.push(v.type);
    }
    o.append(v.data);
  }
}

/** Encodes a hand-made value. */
export function mp(v: Wire): Uint8Array {
  const o = new Out();
  write(o, v);
  return Uint8Array.from(o.bytes);
}

/**
 * The plain JS value that `@msgpack/msgpack` (with `useBigInt64`) encodes to the bytes `mp(v)` gives,
 * for the forms a generic encoder can write: maps as objects with string keys (in the order given,
 * which `Object.keys` may reorder), bin as Uint8Array, float64 as number. Integers that take 64 bits
 * become bigints, since with `useBigInt64` it writes a number ≥ 2^32 or < -2^31 as float64. Throws
 * for forced markers, raw bytes, ext, float32 and non-string map keys (no plain value stands for them).
 */
export function toLibraryValue(v: Wire): unknown {
  if (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0)) return libraryInt(BigInt(v));
  if (typeof v === 'bigint') return libraryInt(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toLibraryValue);
  if (v instanceof Bin) return v.bytes;
  if (v instanceof Float && v.bits === 64) return v.value;
  if (v instanceof MapNode) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v.entries) {
      if (typeof k !== 'string') throw new Error('toLibraryValue: map keys must be strings');
      setOwn(out, k, toLibraryValue(x));
    }
    return out;
  }
  throw new Error('toLibraryValue: no plain value is written in this form');
}

function libraryInt(v: bigint): number | bigint {
  return v >= -0x80000000n && v < 0x100000000n ? Number(v) : v;
}
