/**
 * encodeMessage: ZmqMessage → the exact bytes `rmp_serde::to_vec` writes (docs/PROTOCOL.md §2.1):
 * positional arrays `[tag, fields…]`, None as nil, smallest int forms, JSON object and HashMap keys
 * sorted by their UTF-8 bytes. Values are validated on the way.
 */
import type { ZmqMessage } from '../types';
import { uuidBytesCached } from '../uuid';
import {
  DEF_NONE,
  K_ARRAY,
  K_BOOL,
  K_BYTES,
  K_ENUM,
  K_I64,
  K_JSON,
  K_JSON_MAP,
  K_STR,
  K_STR_MAP,
  K_STRUCT,
  K_TIME,
  K_U64,
  K_UUID,
  MESSAGES,
  MESSAGE_TAGS,
  type Field,
  type NameTable,
  type StructSchema,
} from './schema';
import { MAX_DEPTH } from './reader';
import { isAscii } from './isAscii';
import { Writer } from './writer';

const TWO_64 = 2 ** 64;
const TWO_63 = 2 ** 63;
const U64_MAX = 0xffffffffffffffffn;
const I64_MAX = 0x7fffffffffffffffn;
const I64_MIN = -0x8000000000000000n;
const U32_MAX = 0xffffffff;
const NANOS_PER_SEC = 1_000_000_000;

/**
 * What a defaulted field left undefined is written as, by DEF_*: the one byte that encodes its
 * default (schema.ts `defaultOf`: '' → a0, false → c2, [] → 90, {} → 80); a test checks they agree.
 */
export const DEFAULT_BYTE: readonly number[] = [0xc0, 0xa0, 0xc2, 0x90, 0x80];

const writer = new Writer();
let writerBusy = false;

/** Depth of the value being written (arrays/maps), checked against the Rust decoder's limit. */
let depth = 0;

/**
 * The msgpack bytes of `msg`, exactly as the Rust peers write them.
 * @param prefix bytes to put before them in the returned array (a PUB frame's `<topic>\0`): one
 *   buffer for the frame, no copy. They do not count against `MAX_MESSAGE_BYTES`.
 * @throws ProtocolError naming the field at fault ('encode'), or 'too_large' past MAX_MESSAGE_BYTES
 */
export function encodeMessage(msg: ZmqMessage, prefix?: Uint8Array): Uint8Array {
  // A getter on the message could call back into encodeMessage: give that call its own writer.
  const w = writerBusy ? new Writer() : writer;
  const outerDepth = depth;
  if (w === writer) writerBusy = true;
  w.reset();
  if (prefix !== undefined) w.prefix(prefix);
  depth = 0;
  try {
    writeMessage(w, msg);
    return w.finish();
  } catch (e) {
    w.release();
    throw e;
  } finally {
    depth = outerDepth;
    if (w === writer) writerBusy = false;
  }
}

function writeMessage(w: Writer, msg: unknown): void {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    w.fail(`expected a message object, got ${describe(msg)}`);
  }
  const type = (msg as { type?: unknown }).type;
  const idx = typeof type === 'string' ? MESSAGE_TAGS.indexOf(type) : -1;
  if (idx < 0) {
    w.segs[w.nsegs++] = 'type';
    w.fail(
      typeof type === 'string'
        ? `unknown message type ${JSON.stringify(type)}`
        : `expected the message type as a string, got ${describe(type)}`,
    );
  }
  const s = (MESSAGES[idx] as (typeof MESSAGES)[number]).struct;
  w.messageType = s.name;
  depth = 1;
  w.arrayHeader(1 + s.fields.length);
  w.raw(MESSAGE_TAGS.encoded[idx] as Uint8Array);
  writeFields(w, s, msg as Record<string, unknown>);
}

function writeStruct(w: Writer, s: StructSchema, v: unknown): void {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    w.fail(`expected ${s.name} as an object, got ${describe(v)}`);
  }
  enter(w);
  w.arrayHeader(s.fields.length);
  writeFields(w, s, v as Record<string, unknown>);
  depth--;
}

function writeFields(w: Writer, s: StructSchema, obj: Record<string, unknown>): void {
  const fields = s.fields;
  const base = w.nsegs++;
  const segs = w.segs;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as Field;
    segs[base] = f.name;
    writeField(w, f, obj[f.name]);
  }
  w.nsegs = base;
}

function enter(w: Writer): void {
  if (++depth > MAX_DEPTH) w.fail(`nesting deeper than ${MAX_DEPTH} arrays/maps (a cycle?)`);
}

function writeField(w: Writer, f: Field, x: unknown): void {
  if (x === undefined || x === null) {
    if (f.optional) {
      w.nil();
      return;
    }
    if (x === undefined && f.def !== DEF_NONE) {
      w.byte(DEFAULT_BYTE[f.def] as number);
      return;
    }
    w.fail(x === undefined ? 'missing required field' : `expected ${f.expected}, got null`);
  }
  switch (f.kind) {
    case K_STR:
      if (typeof x !== 'string') w.fail(`expected a string, got ${describe(x)}`);
      w.str(x);
      return;
    case K_BOOL:
      if (typeof x !== 'boolean') w.fail(`expected a bool, got ${describe(x)}`);
      w.bool(x);
      return;
    case K_U64:
      writeUnsigned(w, x);
      return;
    case K_I64:
      writeSigned(w, x);
      return;
    case K_UUID:
      writeUuid(w, x);
      return;
    case K_TIME:
      writeTime(w, x);
      return;
    case K_JSON:
      writeJson(w, x);
      return;
    case K_STR_MAP:
      writeStringMap(w, x, false);
      return;
    case K_JSON_MAP:
      writeStringMap(w, x, true);
      return;
    case K_ENUM:
      writeEnum(w, f.enumTable as NameTable, x);
      return;
    case K_STRUCT:
      writeStruct(w, f.struct as StructSchema, x);
      return;
    case K_ARRAY:
      writeArray(w, f, x);
      return;
    case K_BYTES:
      writeBytes(w, x);
      return;
    default:
      throw new Error(`schema: unknown field kind ${f.kind}`);
  }
}

/** A JS value's kind, for errors; never calls user code. */
function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (x instanceof Uint8Array) return 'a Uint8Array';
  if (x instanceof Date) return 'a Date';
  const kind = typeof x;
  switch (kind) {
    case 'number': {
      const n = x as number;
      return Number.isInteger(n) ? `the number ${n}` : Number.isFinite(n) ? `the non-integer ${n}` : `${n}`;
    }
    case 'bigint':
      return `the bigint ${x as bigint}`;
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'undefined':
      return 'undefined';
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
  }
}

function writeUnsigned(w: Writer, x: unknown): void {
  if (typeof x === 'number') {
    if (!Number.isInteger(x) || x < 0 || x >= TWO_64)
      w.fail(`expected an unsigned integer (u64), got ${describe(x)}`);
    w.uint(x);
  } else if (typeof x === 'bigint') {
    if (x < 0n || x > U64_MAX) w.fail(`expected an unsigned integer (u64), got ${describe(x)}`);
    w.int(x);
  } else {
    w.fail(`expected an unsigned integer, got ${describe(x)}`);
  }
}

function writeSigned(w: Writer, x: unknown): void {
  if (typeof x === 'number') {
    if (!Number.isInteger(x) || x < -TWO_63 || x >= TWO_63)
      w.fail(`expected an integer (i64), got ${describe(x)}`);
    w.int(x);
  } else if (typeof x === 'bigint') {
    if (x < I64_MIN || x > I64_MAX) w.fail(`expected an integer (i64), got ${describe(x)}`);
    w.int(x);
  } else {
    w.fail(`expected an integer, got ${describe(x)}`);
  }
}

function writeUuid(w: Writer, x: unknown): void {
  if (typeof x !== 'string') w.fail(`expected a uuid string, got ${describe(x)}`);
  const bytes = uuidBytesCached(x);
  if (bytes === null)
    return w.fail(`invalid uuid ${JSON.stringify(x.length > 60 ? `${x.slice(0, 60)}…` : x)}`);
  w.uuid(bytes);
}

function writeEnum(w: Writer, table: NameTable, x: unknown): void {
  const idx = typeof x === 'string' ? table.indexOf(x) : -1;
  if (idx < 0) {
    const allowed = table.names.map((n) => `"${n}"`).join(', ');
    w.fail(`expected one of ${allowed}, got ${typeof x === 'string' ? JSON.stringify(x) : describe(x)}`);
  }
  w.raw(table.encoded[idx] as Uint8Array);
}

/** SystemTime as `[secs, nanos]`; nanos ≥ 1e9 is carried into secs (as serde does on input). */
function writeTime(w: Writer, x: unknown): void {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Date) {
    w.fail(`expected {secs_since_epoch, nanos_since_epoch}, got ${describe(x)}`);
  }
  const t = x as { secs_since_epoch?: unknown; nanos_since_epoch?: unknown };
  const rawSecs = t.secs_since_epoch;
  let nanos = t.nanos_since_epoch;
  const base = w.nsegs++;
  w.segs[base] = 'secs_since_epoch';
  let secs: number | bigint;
  if (typeof rawSecs === 'number' && Number.isInteger(rawSecs) && rawSecs >= 0) secs = rawSecs;
  else if (typeof rawSecs === 'bigint' && rawSecs >= 0n) secs = rawSecs;
  else return w.fail(`expected an unsigned integer, got ${describe(rawSecs)}`);
  w.segs[base] = 'nanos_since_epoch';
  if (typeof nanos === 'bigint' && nanos >= 0n && nanos <= BigInt(U32_MAX)) nanos = Number(nanos);
  if (typeof nanos !== 'number' || !Number.isInteger(nanos) || nanos < 0 || nanos > U32_MAX) {
    w.fail(`expected nanoseconds as an integer 0..${U32_MAX}, got ${describe(nanos)}`);
  }
  if (nanos >= NANOS_PER_SEC) {
    const carry = Math.floor(nanos / NANOS_PER_SEC);
    nanos -= carry * NANOS_PER_SEC;
    secs =
      typeof secs === 'number' && Number.isSafeInteger(secs + carry)
        ? secs + carry
        : BigInt(secs) + BigInt(carry);
  }
  w.segs[base] = 'secs_since_epoch';
  if (typeof secs === 'number' ? secs >= TWO_63 : secs > I64_MAX) {
    w.fail(
      `SystemTime out of range: ${String(secs)} seconds since the epoch (the Rust decoder stops at 2^63 - 1)`,
    );
  }
  w.nsegs = base;
  enter(w);
  w.byte(0x92);
  w.int(secs);
  w.uint(nanos);
  depth--;
}

function writeArray(w: Writer, f: Field, x: unknown): void {
  if (!Array.isArray(x)) w.fail(`expected an array, got ${describe(x)}`);
  const arr = x as unknown[];
  const n = arr.length;
  enter(w);
  w.arrayHeader(n);
  const base = w.nsegs++;
  const segs = w.segs;
  const elem = f.elem;
  if (elem === K_STR) {
    for (let i = 0; i < n; i++) {
      const s = arr[i];
      if (typeof s !== 'string') {
        segs[base] = i;
        w.fail(`expected a string, got ${describe(s)}`);
      }
      w.str(s);
    }
  } else if (elem === K_UUID) {
    for (let i = 0; i < n; i++) {
      segs[base] = i;
      writeUuid(w, arr[i]);
    }
  } else {
    const s = f.struct as StructSchema;
    for (let i = 0; i < n; i++) {
      segs[base] = i;
      writeStruct(w, s, arr[i]);
    }
  }
  w.nsegs = base;
  depth--;
}

/**
 * How many bytes of `x` are ≥ 0x80. All-ASCII data (most log output) is recognised by one
 * word-wise check ({@link isAscii}) without counting.
 */
function highBytes(x: Uint8Array): number {
  if (isAscii(x)) return 0;
  let high = 0;
  for (let i = 0; i < x.length; i++) if ((x[i] as number) >= 0x80) high++;
  return high;
}

/** LogStream.data: a Uint8Array or number[] written as an array of uints (never bin). */
function writeBytes(w: Writer, x: unknown): void {
  if (x instanceof Uint8Array) {
    const n = x.length;
    enter(w);
    w.arrayHeader(n);
    // The exact size (a byte < 0x80 is its own positive fixint, any other takes `cc` + byte), so
    // a slab is not used up by a 2n guess. Log output is mostly ASCII: then the array's body is
    // the bytes themselves, copied in one call.
    const high = highBytes(x);
    w.ensure(n + high);
    const b = w.buf;
    let p = w.pos;
    if (high === 0) {
      b.set(x, p);
      p += n;
    } else {
      for (let i = 0; i < n; i++) {
        const v = x[i] as number;
        if (v < 0x80) b[p++] = v;
        else {
          b[p++] = 0xcc;
          b[p++] = v;
        }
      }
    }
    w.pos = p;
    depth--;
    return;
  }
  if (!Array.isArray(x)) w.fail(`expected a Uint8Array or an array of bytes, got ${describe(x)}`);
  const arr = x as unknown[];
  const n = arr.length;
  enter(w);
  w.arrayHeader(n);
  const base = w.nsegs++;
  for (let i = 0; i < n; i++) {
    const v = arr[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xff) {
      w.segs[base] = i;
      w.fail(`expected a byte (integer 0..255), got ${describe(v)}`);
    }
    w.uint(v);
  }
  w.nsegs = base;
  depth--;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  // Object.prototype of this or another realm, or a null-prototype object.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** HashMap<String, String | Value>: keys sorted by UTF-8 bytes; undefined values are left out. */
function writeStringMap(w: Writer, x: unknown, json: boolean): void {
  if (!isPlainObject(x)) w.fail(`expected a plain object (map), got ${describe(x)}`);
  const keys = definedKeys(x);
  enter(w);
  w.mapHeader(keys.length);
  const base = w.nsegs++;
  for (const key of keys) {
    w.segs[base] = key;
    w.str(key);
    const v = x[key];
    if (json) writeJson(w, v);
    else {
      if (typeof v !== 'string') w.fail(`expected a string, got ${describe(v)}`);
      w.str(v);
    }
  }
  w.nsegs = base;
  depth--;
}

/** Own enumerable keys whose value is not undefined, sorted as serde_json/BTreeMap sorts them. */
function definedKeys(obj: Record<string, unknown>): string[] {
  let keys = Object.keys(obj);
  let hasUndefined = false;
  for (const k of keys) {
    if (obj[k] === undefined) {
      hasUndefined = true;
      break;
    }
  }
  if (hasUndefined) keys = keys.filter((k) => obj[k] !== undefined);
  for (let i = 1; i < keys.length; i++) {
    if (compareUtf8(keys[i - 1] as string, keys[i] as string) > 0) {
      keys.sort(compareUtf8);
      break;
    }
  }
  return keys;
}

/**
 * Orders strings by their UTF-8 bytes (= by code point), not by UTF-16 code units: a surrogate
 * pair (U+10000 and up) sorts after U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) return codePointRank(ca) - codePointRank(cb);
      return ca - cb;
    }
  }
  return a.length - b.length;
}

function codePointRank(c: number): number {
  return c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

/** serde_json::Value. Whole numbers are written as integers, other finite numbers as float64. */
function writeJson(w: Writer, x: unknown): void {
  switch (typeof x) {
    case 'string':
      w.str(x);
      return;
    case 'number':
      if (Number.isInteger(x) && x >= -TWO_63 && x < TWO_64 && !Object.is(x, -0)) w.int(x);
      else if (Number.isFinite(x)) w.float64(x);
      else w.fail(`${x} cannot be written in a JSON value`);
      return;
    case 'boolean':
      w.bool(x);
      return;
    case 'bigint':
      if (x < I64_MIN || x > U64_MAX) w.fail(`the bigint ${x} is outside the i64/u64 range of JSON numbers`);
      w.int(x);
      return;
    case 'object':
      if (x === null) {
        w.nil();
        return;
      }
      if (Array.isArray(x)) {
        writeJsonArray(w, x as unknown[]);
        return;
      }
      if (isPlainObject(x)) {
        writeJsonObject(w, x);
        return;
      }
      w.fail(`${describe(x)} that is not a plain object cannot be written in a JSON value`);
      return;
    case 'undefined':
    case 'function':
    case 'symbol':
      w.fail(`${describe(x)} cannot be written in a JSON value`);
  }
}

function writeJsonArray(w: Writer, arr: unknown[]): void {
  enter(w);
  const n = arr.length;
  w.arrayHeader(n);
  const base = w.nsegs++;
  for (let i = 0; i < n; i++) {
    w.segs[base] = i;
    const v = arr[i];
    if (v === undefined) w.fail('undefined cannot be written in a JSON array (use null)');
    writeJson(w, v);
  }
  w.nsegs = base;
  depth--;
}

function writeJsonObject(w: Writer, obj: Record<string, unknown>): void {
  enter(w);
  const keys = definedKeys(obj);
  w.mapHeader(keys.length);
  const base = w.nsegs++;
  for (const key of keys) {
    w.segs[base] = key;
    w.str(key);
    writeJson(w, obj[key]);
  }
  w.nsegs = base;
  depth--;
}
