/**
 * decodeMessage: msgpack bytes → ZmqMessage, accepting and rejecting what the Rust decoder
 * (rmp_serde + serde derive, internally tagged `type`) does; docs/PROTOCOL.md §2.2.
 */
import { MAX_MESSAGE_BYTES, type ZmqMessage } from '../types';
import { ProtocolError, clipText } from '../errors';
import { formatUuidCached, parseUuidBytes } from '../uuid';
import {
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
  TIME_KEYS,
  defaultOf,
  type Field,
  type NameTable,
  type StructSchema,
} from './schema';
import {
  MAX_DEPTH,
  COST_BOXED_NUMBER,
  COST_CONTAINER,
  COST_ENTRY,
  EMPTY_SHAPE,
  COST_SLOT,
  COST_STRING,
  Reader,
  arrayLength,
  binLength,
  charge,
  chargeKey,
  describeExt,
  enter,
  fail,
  isExt,
  mapLength,
  need,
  nextByte,
  readFloatBody,
  readIntBody,
  readStrBody,
  strLength,
  truncated,
  typeName,
} from './reader';
import { MIN_BATCH, readAsciiStrings } from './readAsciiStrings';

const I64_MAX = 0x7fffffffffffffffn;
const NANOS_PER_SEC = 1_000_000_000;

/** How a struct map treats a `type` key: an ordinary unknown key, or the message tag. */
const TYPE_KEY_UNKNOWN = 0;
/** The tag was the first key and is read: any further `type` key is a duplicate. */
const TYPE_KEY_DUPLICATE = 1;
/** The tag was found (and checked for duplicates) by a pre-scan: skip `type` keys. */
const TYPE_KEY_SKIP = 2;

const TYPE_BYTES = [0x74, 0x79, 0x70, 0x65] as const; // "type"

const reader = new Reader();
const uuidScratch = new Uint8Array(16);

export function decodeMessage(bytes: Uint8Array): ZmqMessage {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError('decode', null, '', 'expected the message bytes as a Uint8Array');
  }
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError(
      'too_large',
      null,
      '',
      `message of ${bytes.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`,
    );
  }
  // Decoding never calls user code, so one module-level reader is never used re-entrantly; every
  // error goes through fail(), which releases the input (no try/finally needed).
  reader.reset(bytes);
  const msg = readMessage(reader);
  reader.release();
  return msg;
}

function readMessage(r: Reader): ZmqMessage {
  const m = nextByte(r);
  let n = arrayLength(r, m);
  if (n >= 0) {
    enter(r);
    if (n === 0) fail(r, 'missing field `type` (empty array)');
    r.segs[r.nsegs++] = 'type';
    const s = readTag(r);
    r.nsegs--;
    return readStructArray(r, s, n - 1) as ZmqMessage;
  }
  n = mapLength(r, m);
  if (n >= 0) {
    enter(r);
    if (n === 0) fail(r, 'missing field `type` (empty map)');
    if (keyIsType(r)) {
      r.pos += 5;
      r.segs[r.nsegs++] = 'type';
      const s = readTag(r);
      r.nsegs--;
      return readStructMap(r, s, n - 1, TYPE_KEY_DUPLICATE) as ZmqMessage;
    }
    const entries = r.pos;
    const s = findTag(r, n);
    r.pos = entries;
    return readStructMap(r, s, n, TYPE_KEY_SKIP) as ZmqMessage;
  }
  if (isExt(m)) fail(r, `expected a message (an array or a map), got ${describeExt(r, m)}`);
  return fail(r, `expected a message (an array or a map), got ${typeName(m)}`);
}

/** True when the next key is the fixstr "type". */
function keyIsType(r: Reader): boolean {
  const b = r.buf;
  const p = r.pos;
  return (
    p + 5 <= r.end &&
    b[p] === 0xa4 &&
    b[p + 1] === TYPE_BYTES[0] &&
    b[p + 2] === TYPE_BYTES[1] &&
    b[p + 3] === TYPE_BYTES[2] &&
    b[p + 4] === TYPE_BYTES[3]
  );
}

/** Map-form message whose `type` key is not first: scan every entry for it, then read the tag. */
function findTag(r: Reader, n: number): StructSchema {
  let tagAt = -1;
  const base = r.nsegs++;
  for (let i = 0; i < n; i++) {
    const key = readKey(r);
    r.segs[base] = key;
    if (key === 'type') {
      if (tagAt >= 0) fail(r, 'duplicate field `type`');
      tagAt = r.pos;
    }
    skipValue(r);
  }
  if (tagAt < 0) {
    r.nsegs = base;
    fail(r, 'missing field `type`');
  }
  r.segs[base] = 'type';
  r.pos = tagAt;
  const s = readTag(r);
  r.nsegs = base;
  return s;
}

/** Reads the `type` tag and returns the message's struct schema. Integer and bin tags are rejected. */
function readTag(r: Reader): StructSchema {
  const m = nextByte(r);
  const len = strLength(r, m);
  if (len < 0) fail(r, `expected the message type as a string, got ${typeName(m)}`);
  need(r, len);
  const idx = MESSAGE_TAGS.match(r.buf, r.pos, len);
  if (idx < 0) {
    const tag = readStrBody(r, len);
    fail(r, `unknown message type \`${clipText(tag)}\`, expected one of ${list(MESSAGE_TAGS.names)}`);
  }
  r.pos += len;
  const s = (MESSAGES[idx] as (typeof MESSAGES)[number]).struct;
  r.messageType = s.name;
  return s;
}

function list(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}

/** A map key: only strings (integer and bin keys are serde quirks we reject). */
function readKey(r: Reader): string {
  const m = nextByte(r);
  const len = strLength(r, m);
  if (len < 0) fail(r, `expected a string map key, got ${typeName(m)}`);
  return readStrBody(r, len);
}

// ---- structs -----------------------------------------------------------------------------------

function readStruct(r: Reader, s: StructSchema): object {
  const m = nextByte(r);
  let n = arrayLength(r, m);
  if (n >= 0) {
    enter(r);
    const v = readStructArray(r, s, n);
    r.depth--;
    return v;
  }
  n = mapLength(r, m);
  if (n >= 0) {
    enter(r);
    const v = readStructMap(r, s, n, TYPE_KEY_UNKNOWN);
    r.depth--;
    return v;
  }
  return fail(r, `expected ${s.name} (an array or a map), got ${typeName(m)}`);
}

/** Array form: the fields in order; trailing optional/defaulted fields may be left out. */
function readStructArray(r: Reader, s: StructSchema, n: number): object {
  const fields = s.fields;
  const nf = fields.length;
  if (n > nf) fail(r, `too many elements for ${s.name}: expected at most ${nf}, got ${n}`);
  charge(r, COST_CONTAINER + nf * COST_SLOT);
  if (n < s.minLength) {
    let k = n;
    while ((fields[k] as Field).optional || (fields[k] as Field).def !== 0) k++;
    r.segs[r.nsegs++] = (fields[k] as Field).name;
    fail(r, `missing required field (array of ${n} elements, ${s.name} needs at least ${s.minLength})`);
  }
  const v = s.scratch;
  const base = r.nsegs++;
  const segs = r.segs;
  let i = 0;
  for (; i < n; i++) {
    const f = fields[i] as Field;
    segs[base] = f.name;
    v[i] = readField(r, f);
  }
  r.nsegs = base;
  for (; i < nf; i++) v[i] = defaultOf(fields[i] as Field);
  return finish(s, v, nf);
}

function finish(s: StructSchema, v: unknown[], nf: number): object {
  const out = s.build(v);
  for (let i = 0; i < nf; i++) v[i] = undefined;
  return out;
}

/** Map form: field-name keys in any order; unknown keys ignored, duplicates rejected. */
function readStructMap(r: Reader, s: StructSchema, n: number, typeKey: number): object {
  const fields = s.fields;
  const nf = fields.length;
  const names = s.names;
  const v = s.scratch;
  charge(r, COST_CONTAINER + nf * COST_SLOT);
  const base = r.nsegs++;
  const segs = r.segs;
  let seen = 0;
  for (let k = 0; k < n; k++) {
    const m = nextByte(r);
    const len = strLength(r, m);
    if (len < 0) {
      r.nsegs = base;
      fail(r, `expected a field name (string key) in ${s.name}, got ${typeName(m)}`);
    }
    need(r, len);
    const idx = names.match(r.buf, r.pos, len);
    if (idx >= 0) {
      r.pos += len;
      const f = fields[idx] as Field;
      segs[base] = f.name;
      const bit = 1 << idx;
      if (seen & bit) fail(r, `duplicate field \`${f.name}\``);
      seen |= bit;
      v[idx] = readField(r, f);
    } else {
      const key = readStrBody(r, len);
      segs[base] = key;
      if (key === 'type' && typeKey !== TYPE_KEY_UNKNOWN) {
        if (typeKey === TYPE_KEY_DUPLICATE) fail(r, 'duplicate field `type`');
      }
      skipValue(r);
    }
  }
  for (let i = 0; i < nf; i++) {
    if (seen & (1 << i)) continue;
    const f = fields[i] as Field;
    if (!f.optional && f.def === 0) {
      segs[base] = f.name;
      fail(r, 'missing required field');
    }
    v[i] = defaultOf(f);
  }
  r.nsegs = base;
  return finish(s, v, nf);
}

function readField(r: Reader, f: Field): unknown {
  if (r.pos >= r.end) truncated(r);
  const m = r.buf[r.pos] as number;
  if (m === 0xc0) {
    if (f.optional) {
      r.pos++;
      return null;
    }
    fail(r, `expected ${f.expected}, got nil`);
  }
  switch (f.kind) {
    case K_STR:
      return readString(r);
    case K_BOOL:
      r.pos++;
      if (m === 0xc3) return true;
      if (m === 0xc2) return false;
      return fail(r, `expected a bool, got ${typeName(m)}`);
    case K_U64:
      return readUnsigned(r);
    case K_I64:
      return readSigned(r);
    case K_UUID:
      return readUuid(r);
    case K_TIME:
      return readTime(r);
    case K_JSON:
      return readJson(r);
    case K_STR_MAP:
      return readStringMap(r, false);
    case K_JSON_MAP:
      return readStringMap(r, true);
    case K_ENUM:
      return readEnum(r, f.enumTable as NameTable);
    case K_STRUCT:
      return readStruct(r, f.struct as StructSchema);
    case K_ARRAY:
      return readArray(r, f);
    case K_BYTES:
      return readBytes(r);
    default:
      throw new Error(`schema: unknown field kind ${f.kind}`);
  }
}

// ---- scalars -----------------------------------------------------------------------------------

function readString(r: Reader): string {
  const m = nextByte(r);
  const len = strLength(r, m);
  if (len < 0) {
    if (isExt(m)) fail(r, `expected a string, got ${describeExt(r, m)}`);
    fail(r, `expected a string, got ${typeName(m)}`);
  }
  return readStrBody(r, len);
}

/** Any msgpack integer ≥ 0 (signed markers included, as serde does); no floats. */
function readUnsigned(r: Reader): number | bigint {
  const m = nextByte(r);
  if (m < 0x80) return m;
  if (m >= 0xcc && m <= 0xd3) {
    const v = readIntBody(r, m);
    if (v < 0) fail(r, `expected an unsigned integer, got ${v}`);
    return v;
  }
  if (m >= 0xe0) return fail(r, `expected an unsigned integer, got ${m - 0x100}`);
  return fail(r, `expected an unsigned integer, got ${isExt(m) ? describeExt(r, m) : typeName(m)}`);
}

/** i64: any msgpack integer in [-2^63, 2^63). */
function readSigned(r: Reader): number | bigint {
  const m = nextByte(r);
  if (m < 0x80) return m;
  if (m >= 0xe0) return m - 0x100;
  if (m >= 0xcc && m <= 0xd3) {
    const v = readIntBody(r, m);
    if (typeof v === 'bigint' && v > I64_MAX) fail(r, `integer ${v} out of range for i64`);
    return v;
  }
  return fail(r, `expected an integer, got ${isExt(m) ? describeExt(r, m) : typeName(m)}`);
}

/** A uuid's text form: 36 one-byte chars. */
const COST_UUID = COST_STRING + 36;

function readUuid(r: Reader): string {
  charge(r, COST_UUID);
  const m = nextByte(r);
  const bin = binLength(r, m);
  if (bin >= 0) {
    if (bin !== 16) fail(r, `expected a 16-byte uuid, got ${bin} bytes`);
    need(r, 16);
    const s = formatUuidCached(r.buf, r.pos);
    r.pos += 16;
    return s;
  }
  const len = strLength(r, m);
  if (len >= 0) {
    need(r, len);
    if (!parseUuidBytes(r.buf, r.pos, len, uuidScratch)) {
      const text = readStrBody(r, len); // rejects invalid UTF-8 first
      fail(r, `invalid uuid text ${JSON.stringify(clipText(text))}`);
    }
    r.pos += len;
    return formatUuidCached(uuidScratch, 0);
  }
  return fail(r, `expected a uuid (16-byte bin or text), got ${isExt(m) ? describeExt(r, m) : typeName(m)}`);
}

function readEnum(r: Reader, table: NameTable): string {
  const m = nextByte(r);
  const len = strLength(r, m);
  if (len < 0) fail(r, `expected one of ${list(table.names)} as a string, got ${typeName(m)}`);
  need(r, len);
  const idx = table.match(r.buf, r.pos, len);
  if (idx < 0) {
    const text = readStrBody(r, len);
    fail(r, `unknown variant \`${clipText(text)}\`, expected one of ${list(table.names)}`);
  }
  r.pos += len;
  return table.names[idx] as string;
}

/** SystemTime: `[secs, nanos]` or `{secs_since_epoch, nanos_since_epoch}`; nanos ≥ 1e9 carried. */
function readTime(r: Reader): object {
  charge(r, COST_CONTAINER + 2 * COST_SLOT);
  const m = nextByte(r);
  let secs: number | bigint;
  let nanos: number | bigint;
  const base = r.nsegs++;
  const segs = r.segs;
  let n = arrayLength(r, m);
  if (n >= 0) {
    enter(r);
    if (n !== 2) {
      r.nsegs = base;
      fail(r, `expected SystemTime as [secs, nanos], got an array of ${n} elements`);
    }
    segs[base] = 'secs_since_epoch';
    secs = readUnsigned(r);
    segs[base] = 'nanos_since_epoch';
    nanos = readUnsigned(r);
  } else {
    n = mapLength(r, m);
    if (n < 0) {
      r.nsegs = base;
      fail(
        r,
        `expected SystemTime ([secs, nanos] or a map), got ${isExt(m) ? describeExt(r, m) : typeName(m)}`,
      );
    }
    enter(r);
    let s: number | bigint | null = null;
    let ns: number | bigint | null = null;
    for (let k = 0; k < n; k++) {
      const km = nextByte(r);
      const len = strLength(r, km);
      if (len < 0) fail(r, `expected a SystemTime field name, got ${typeName(km)}`);
      need(r, len);
      const idx = TIME_KEYS.match(r.buf, r.pos, len);
      if (idx < 0) {
        const key = readStrBody(r, len);
        segs[base] = key;
        fail(r, `unknown field \`${clipText(key)}\`, expected \`secs_since_epoch\` or \`nanos_since_epoch\``);
      }
      r.pos += len;
      segs[base] = TIME_KEYS.names[idx] as string;
      if (idx === 0) {
        if (s !== null) fail(r, 'duplicate field `secs_since_epoch`');
        s = readUnsigned(r);
      } else {
        if (ns !== null) fail(r, 'duplicate field `nanos_since_epoch`');
        ns = readUnsigned(r);
      }
    }
    if (s === null) {
      segs[base] = 'secs_since_epoch';
      fail(r, 'missing required field');
    }
    if (ns === null) {
      segs[base] = 'nanos_since_epoch';
      fail(r, 'missing required field');
    }
    secs = s;
    nanos = ns;
  }
  if (typeof nanos !== 'number' || nanos > 0xffffffff) {
    segs[base] = 'nanos_since_epoch';
    fail(r, `nanoseconds ${nanos} out of range for u32`);
  }
  if (nanos >= NANOS_PER_SEC) {
    const carry = Math.floor(nanos / NANOS_PER_SEC);
    nanos -= carry * NANOS_PER_SEC;
    if (typeof secs === 'number' && Number.isSafeInteger(secs + carry)) secs += carry;
    else secs = BigInt(secs) + BigInt(carry);
  }
  // Rust (on Unix) stores SystemTime as i64 seconds: later times fail to deserialize.
  if (typeof secs === 'bigint' && secs > I64_MAX) {
    segs[base] = 'secs_since_epoch';
    fail(r, `SystemTime out of range: ${secs} seconds since the epoch`);
  }
  r.depth--;
  r.nsegs = base;
  return { secs_since_epoch: secs, nanos_since_epoch: nanos };
}

// ---- containers --------------------------------------------------------------------------------

/**
 * An array for `n` elements, charged and allocated at its final length: growing it by push()
 * would leave up to 17 slots of slack per small array (a frame of `[0]`s took ~190 bytes of heap
 * per 2-byte element) and copy big ones as they grow. `n` is at most the bytes left (arrayLength
 * checks it) and is charged first, so a lying count fails before anything is allocated.
 */
function newArray(r: Reader, n: number): unknown[] {
  charge(r, COST_CONTAINER + n * COST_SLOT);
  // Holey until filled; every slot is written before the array is returned to anyone.
  return new Array<unknown>(n);
}

function readArray(r: Reader, f: Field): unknown[] {
  const m = nextByte(r);
  const n = arrayLength(r, m);
  if (n < 0) fail(r, `expected an array, got ${typeName(m)}`);
  enter(r);
  const out = newArray(r, n);
  const base = r.nsegs++;
  const segs = r.segs;
  const elem = f.elem;
  if (elem === K_STR) {
    if (n < MIN_BATCH || !readAsciiStrings(r, out, n)) {
      for (let i = 0; i < n; i++) {
        segs[base] = i;
        out[i] = readString(r);
      }
    }
  } else if (elem === K_UUID) {
    for (let i = 0; i < n; i++) {
      segs[base] = i;
      out[i] = readUuid(r);
    }
  } else {
    const s = f.struct as StructSchema;
    for (let i = 0; i < n; i++) {
      segs[base] = i;
      out[i] = readStruct(r, s);
    }
  }
  r.nsegs = base;
  r.depth--;
  return out;
}

/** LogStream.data: an array of integers 0..255 (never bin), returned as a Uint8Array. */
function readBytes(r: Reader): Uint8Array {
  const m = nextByte(r);
  const n = arrayLength(r, m);
  if (n < 0) {
    fail(
      r,
      `expected an array of bytes, got ${m >= 0xc4 && m <= 0xc6 ? 'bin (data must be an array of integers)' : typeName(m)}`,
    );
  }
  enter(r);
  charge(r, COST_CONTAINER + n);
  const out = new Uint8Array(n);
  const buf = r.buf;
  const base = r.nsegs++;
  // Bytes below 0x80 are their own fixint encoding (the usual case, text): a run of them is
  // found by a tight scan and copied at once, since a log chunk may hold 10 MiB of them.
  let pos = r.pos;
  let i = 0;
  while (i < n) {
    const stop = Math.min(r.end, pos + (n - i));
    let q = pos;
    while (q < stop && (buf[q] as number) < 0x80) q++;
    if (q > pos) {
      out.set(buf.subarray(pos, q), i);
      i += q - pos;
      pos = q;
      continue;
    }
    r.pos = pos;
    r.segs[base] = i;
    const v = readUnsigned(r);
    if (typeof v !== 'number' || v > 0xff) fail(r, `byte value ${v} out of range for u8`);
    out[i++] = v;
    pos = r.pos;
  }
  r.pos = pos;
  r.nsegs = base;
  r.depth--;
  return out;
}

/** Sets a key on a plain object; `__proto__` becomes an own property, never the prototype. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** HashMap<String, String> or HashMap<String, Value>. */
function readStringMap(r: Reader, json: boolean): Record<string, unknown> {
  const m = nextByte(r);
  const n = mapLength(r, m);
  if (n < 0) fail(r, `expected a map, got ${typeName(m)}`);
  return readMapEntries(r, n, json, 'expected a string map key');
}

/**
 * The `n` entries of a map whose header was just read, as an object: string keys only (`keyRule`
 * says so when one is not), values JSON or strings, a repeated key keeping the last value (as serde
 * does), `__proto__` an own key.
 */
function readMapEntries(r: Reader, n: number, json: boolean, keyRule: string): Record<string, unknown> {
  enter(r);
  charge(r, COST_CONTAINER + n * COST_ENTRY);
  const out: Record<string, unknown> = {};
  const base = r.nsegs++;
  let shape = EMPTY_SHAPE;
  for (let i = 0; i < n; i++) {
    r.nsegs = base; // a bad key is reported at the map's own path
    const km = nextByte(r);
    const len = strLength(r, km);
    if (len < 0) fail(r, `${keyRule}, got ${isExt(km) ? describeExt(r, km) : typeName(km)}`);
    need(r, len);
    shape = chargeKey(r, shape, len);
    const key = readStrBody(r, len);
    r.segs[base] = key;
    r.nsegs = base + 1;
    setOwn(out, key, json ? readJson(r) : readString(r));
  }
  r.nsegs = base;
  r.depth--;
  return out;
}

// ---- JSON values -------------------------------------------------------------------------------

/** serde_json::Value: nil/bool/int/float/str/array/map-with-string-keys; no bin, no ext. */
function readJson(r: Reader): unknown {
  const m = nextByte(r);
  if (m < 0x80) return m;
  if (m >= 0xe0) return m - 0x100;
  if (m <= 0x8f) return readJsonMap(r, mapLength(r, m));
  if (m <= 0x9f) return readJsonArray(r, arrayLength(r, m));
  if (m <= 0xbf) return readStrBody(r, m & 0x1f);
  switch (m) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xca:
    case 0xcb: {
      charge(r, COST_BOXED_NUMBER);
      const v = readFloatBody(r, m);
      // serde_json turns a non-finite float into Value::Null.
      return Number.isFinite(v) ? v : null;
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
      return readStrBody(r, strLength(r, m));
    case 0xdc:
    case 0xdd:
      return readJsonArray(r, arrayLength(r, m));
    case 0xde:
    case 0xdf:
      return readJsonMap(r, mapLength(r, m));
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return fail(r, 'bin is not allowed in a JSON value');
    case 0xc1:
      return fail(r, 'invalid marker 0xc1');
    default:
      if (m >= 0xcc && m <= 0xd3) {
        if (m >= 0xce) charge(r, COST_BOXED_NUMBER); // 32 bits and more may not fit a small integer
        return readIntBody(r, m);
      }
      return fail(r, `${describeExt(r, m)} is not allowed in a JSON value`);
  }
}

function readJsonArray(r: Reader, n: number): unknown[] {
  enter(r);
  const out = newArray(r, n);
  const base = r.nsegs++;
  for (let i = 0; i < n; i++) {
    r.segs[base] = i;
    out[i] = readJson(r);
  }
  r.nsegs = base;
  r.depth--;
  return out;
}

function readJsonMap(r: Reader, n: number): Record<string, unknown> {
  return readMapEntries(r, n, true, 'JSON object keys must be strings');
}

// ---- skipping unknown fields -------------------------------------------------------------------

/**
 * Skips the value of an ignored map key, still checking it: well-formed, within the nesting limit,
 * valid UTF-8 strings, no ext (docs/PROTOCOL.md §2.2 rejects ext values and invalid UTF-8 anywhere).
 *
 * It allocates nothing and does not recurse, whatever the value holds: a loop with the count of
 * values left at each open level (in the reader's fixed stack, MAX_DEPTH deep), strings checked
 * in place. Building each skipped string to check it cost 80 MiB and ~90 ms for 10 MiB of short
 * strings; recursing per value, ~700 ms for 10 MiB of empty arrays.
 */
function skipValue(r: Reader): void {
  const buf = r.buf;
  const end = r.end;
  const stack = r.skipStack;
  const base = r.depth;
  let top = 0; // open containers of this value: the nesting is base + top
  let left = 1; // values still to skip at the innermost open level
  // The position lives in a local on the fast paths: 10 MiB of one-byte values is ten million
  // steps. It is written back (r.pos, r.depth) before anything that reads them or fails.
  let pos = r.pos;
  for (;;) {
    while (left === 0) {
      if (top === 0) {
        r.pos = pos;
        return;
      }
      left = stack[--top] as number;
    }
    // A run of values of one byte each (fixint, nil, bool, and empty arrays and maps while one
    // more level is allowed) in a tight loop: the common case of a big skipped value.
    const canNest = base + top < MAX_DEPTH;
    const stop = Math.min(end, pos + left);
    let p = pos;
    while (p < stop && isOneByteValue(buf[p] as number, canNest)) p++;
    left -= p - pos;
    pos = p;
    if (left === 0) continue;
    left--;
    if (pos >= end) {
      r.pos = pos;
      truncated(r);
    }
    const m = buf[pos++] as number;
    if (m < 0x80 || m >= 0xe0) continue; // fixint
    let n: number;
    if (m <= 0x8f) n = (m & 0x0f) * 2;
    else if (m <= 0x9f) n = m & 0x0f;
    else {
      r.pos = pos;
      if (m <= 0xbf) {
        skipString(r, m & 0x1f);
        pos = r.pos;
        continue;
      }
      n = mapLength(r, m);
      if (n >= 0) n *= 2;
      else n = arrayLength(r, m);
      if (n < 0) {
        skipScalar(r, m);
        pos = r.pos;
        continue;
      }
      pos = r.pos;
    }
    // A container: every element takes at least one byte, so a count beyond the bytes left is a
    // truncated message (mapLength/arrayLength check it for the long forms).
    if (n > end - pos || base + top >= MAX_DEPTH) {
      r.pos = pos;
      r.depth = base + top;
      if (n > end - pos) truncated(r);
      enter(r); // fails: nesting too deep
    }
    // Small containers of one-byte values (`[0]`, `{"k": 1}` has a str) close here, without
    // a push: five million `[0]` cost five million pushes and pops otherwise.
    const canNestInside = base + top + 1 < MAX_DEPTH;
    const close = Math.min(end, pos + n);
    p = pos;
    while (p < close && isOneByteValue(buf[p] as number, canNestInside)) p++;
    const done = p - pos;
    pos = p;
    if (done === n) continue;
    stack[top++] = left;
    left = n - done;
  }
}

/** Whether marker `b` is a whole value of one byte: fixint, nil, bool, or (when `canNest`) an empty array or map. */
function isOneByteValue(b: number, canNest: boolean): boolean {
  return (
    b < 0x80 || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3 || ((b === 0x90 || b === 0x80) && canNest)
  );
}

/** Skips a str body of `len` bytes, checking it is valid UTF-8 without building it. */
function skipString(r: Reader, len: number): void {
  need(r, len);
  if (!isValidUtf8(r.buf, r.pos, r.pos + len)) fail(r, 'string is not valid UTF-8');
  r.pos += len;
}

/** Bytes after the marker of nil, bool, int and float values, by marker; -1 for every other marker. */
const SCALAR_BODY_BYTES = new Int8Array(256).fill(-1);
for (const [markers, size] of [
  [[0xc0, 0xc2, 0xc3], 0],
  [[0xcc, 0xd0], 1],
  [[0xcd, 0xd1], 2],
  [[0xca, 0xce, 0xd2], 4],
  [[0xcb, 0xcf, 0xd3], 8],
] as const) {
  for (const m of markers) SCALAR_BODY_BYTES[m] = size;
}

/** Skips a value that is neither a container nor a fixstr, whose marker `m` was just read. */
function skipScalar(r: Reader, m: number): void {
  const len = strLength(r, m);
  if (len >= 0) {
    skipString(r, len);
    return;
  }
  const bin = binLength(r, m);
  const size = bin >= 0 ? bin : (SCALAR_BODY_BYTES[m] as number);
  if (size >= 0) {
    need(r, size);
    r.pos += size;
    return;
  }
  if (m === 0xc1) fail(r, 'invalid marker 0xc1');
  fail(r, `${describeExt(r, m)} is not allowed`);
}

/**
 * Whether buf[start..end) is valid UTF-8 as a fatal TextDecoder judges it: no overlong forms,
 * no surrogates, nothing above U+10FFFF, no truncated sequence. Allocates nothing.
 */
export function isValidUtf8(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = buf[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xc2) return false; // a continuation byte, or an overlong 2-byte form
    if (c < 0xe0) {
      if (i + 1 >= end || ((buf[i + 1] as number) & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    if (c < 0xf0) {
      if (i + 2 >= end) return false;
      const c1 = buf[i + 1] as number;
      if ((c1 & 0xc0) !== 0x80 || ((buf[i + 2] as number) & 0xc0) !== 0x80) return false;
      if (c === 0xe0 && c1 < 0xa0) return false; // overlong
      if (c === 0xed && c1 >= 0xa0) return false; // a UTF-16 surrogate
      i += 3;
      continue;
    }
    if (c < 0xf5) {
      if (i + 3 >= end) return false;
      const c1 = buf[i + 1] as number;
      if (
        (c1 & 0xc0) !== 0x80 ||
        ((buf[i + 2] as number) & 0xc0) !== 0x80 ||
        ((buf[i + 3] as number) & 0xc0) !== 0x80
      ) {
        return false;
      }
      if (c === 0xf0 && c1 < 0x90) return false; // overlong
      if (c === 0xf4 && c1 >= 0x90) return false; // above U+10FFFF
      i += 4;
      continue;
    }
    return false;
  }
  return true;
}
