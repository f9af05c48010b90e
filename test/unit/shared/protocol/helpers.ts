/**
 * Test helpers for the protocol codec: hex conversion, a JSON parser that keeps integers above 2^53
 * exact (as bigint), and loading the descartes 1.0.0 vectors in the form the codec produces.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import type { ZmqMessage } from '../../../../shared/protocol';
import {
  DEF_NONE,
  K_ARRAY,
  K_BYTES,
  K_JSON,
  K_JSON_MAP,
  K_STR,
  K_STRUCT,
  K_STR_MAP,
  K_TIME,
  K_UUID,
  type Field,
  type StructSchema,
} from '../../../../shared/protocol/codec/schema';
import { MESSAGE_BY_TAG } from './messageByTag';
import { w, type Wire } from './msgpack-builder';

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error(`odd-length hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * JSON.parse, except that an integer literal outside the safe range becomes a bigint (JSON.parse
 * would round 18446744073709551615 to 18446744073709552000).
 */
export function parseJsonExact(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        const key = value() as string;
        ws();
        if (text[i++] !== ':') throw new Error(`expected : at ${i}`);
        Object.defineProperty(obj, key, {
          value: value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        const d = text[i++];
        if (d === '}') return obj;
        if (d !== ',') throw new Error(`expected , or } at ${i}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return arr;
        if (d !== ',') throw new Error(`expected , or ] at ${i}`);
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
      return s;
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?|^true|^false|^null/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected ${c} at ${i}`);
    i += m[0].length;
    const lit = m[0];
    if (lit === 'true') return true;
    if (lit === 'false') return false;
    if (lit === 'null') return null;
    if (/^-?\d+$/.test(lit)) {
      const n = Number(lit);
      return Number.isSafeInteger(n) ? n : BigInt(lit);
    }
    return Number(lit);
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return v;
}

const fixtureDir = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

export interface EncodeVector {
  name: string;
  description: string;
  hex: string;
  alt_hex?: string;
  json: Record<string, unknown>;
}

export interface DecodeVector {
  name: string;
  description: string;
  hex: string;
  accepted: boolean;
  error: string | null;
  decoded_json: Record<string, unknown> | null;
  reencoded_hex: string | null;
}

export function loadVectors(): EncodeVector[] {
  return parseJsonExact(readFileSync(`${fixtureDir}descartes-1.0.0.json`, 'utf8')) as EncodeVector[];
}

export function loadDecodeVectors(): DecodeVector[] {
  return parseJsonExact(readFileSync(`${fixtureDir}descartes-1.0.0-decode.json`, 'utf8')) as DecodeVector[];
}

/** A vector's `json` as decodeMessage returns it: LogStream.data as a Uint8Array. */
export function asDecoded(json: Record<string, unknown>): ZmqMessage {
  if (json.type === 'log_stream')
    return { ...json, data: Uint8Array.from(json.data as number[]) } as ZmqMessage;
  return json as unknown as ZmqMessage;
}

// ---- re-writing a message in other accepted wire forms ---------------------------------------

/** A small seeded PRNG (mulberry32), so property tests can vary wire forms reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WireForms {
  /** Probability of writing a struct (or the message) as a map instead of an array. */
  mapProbability: number;
  /** Probability of writing a uuid as text instead of bin16. */
  uuidTextProbability: number;
  /** Probability of leaving out an optional/defaulted field that holds None/its default. */
  omitProbability: number;
  random: () => number;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function uuidWire(text: string, f: WireForms): Wire {
  if (f.random() >= f.uuidTextProbability) return w.uuid(text);
  const simple = text.replace(/-/g, '');
  const forms = [text, text.toUpperCase(), simple, simple.toUpperCase(), `{${text}}`, `urn:uuid:${text}`];
  return forms[Math.floor(f.random() * forms.length)] as string;
}

function jsonWire(v: unknown): Wire {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    return Number.isInteger(v) && !Object.is(v, -0) && v >= -(2 ** 63) && v < 2 ** 64 ? v : w.f64(v);
  }
  if (Array.isArray(v)) return v.map(jsonWire);
  if (v instanceof Uint8Array) return Array.from(v);
  const o = v as Record<string, unknown>;
  return w.map(...Object.keys(o).flatMap((k) => [k, jsonWire(o[k])]));
}

function isDefaultValue(f: Field, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (f.def === DEF_NONE) return false;
  if (v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function fieldWire(field: Field, v: unknown, f: WireForms): Wire {
  if (v === null || v === undefined) return null;
  switch (field.kind) {
    case K_UUID:
      return uuidWire(v as string, f);
    case K_TIME: {
      const t = v as { secs_since_epoch: number | bigint; nanos_since_epoch: number };
      if (f.random() < f.mapProbability) {
        const entries: [string, Wire][] = [
          ['secs_since_epoch', t.secs_since_epoch],
          ['nanos_since_epoch', t.nanos_since_epoch],
        ];
        return w.map(...shuffle(entries, f.random).flat());
      }
      return [t.secs_since_epoch, t.nanos_since_epoch];
    }
    case K_JSON:
    case K_JSON_MAP:
    case K_STR_MAP:
      return jsonWire(v);
    case K_STRUCT:
      return structWire(field.struct as StructSchema, v as Record<string, unknown>, f, null);
    case K_ARRAY:
      return (v as unknown[]).map((x) =>
        field.elem === K_STRUCT
          ? structWire(field.struct as StructSchema, x as Record<string, unknown>, f, null)
          : field.elem === K_UUID
            ? uuidWire(x as string, f)
            : (x as string),
      );
    case K_BYTES:
      return Array.from(v as ArrayLike<number>);
    case K_STR:
    default:
      return v as Wire;
  }
}

function structWire(s: StructSchema, obj: Record<string, unknown>, f: WireForms, tag: string | null): Wire {
  const values = s.fields.map((field) => fieldWire(field, obj[field.name], f));
  const omittable = s.fields.map((field) => field.optional || field.def !== DEF_NONE);
  if (f.random() < f.mapProbability) {
    const entries: [Wire, Wire][] = [];
    s.fields.forEach((field, i) => {
      const omit = omittable[i] && isDefaultValue(field, obj[field.name]) && f.random() < f.omitProbability;
      if (!omit) entries.push([field.name, values[i] as Wire]);
    });
    if (tag !== null) entries.unshift(['type', tag]);
    return w.map(...shuffle(entries, f.random).flat());
  }
  // Array form: trailing fields that hold None/their default may be left out.
  let n = values.length;
  while (
    n > 0 &&
    omittable[n - 1] &&
    isDefaultValue(s.fields[n - 1] as Field, obj[(s.fields[n - 1] as Field).name]) &&
    f.random() < f.omitProbability
  ) {
    n--;
  }
  const items = values.slice(0, n);
  return tag === null ? items : [tag, ...items];
}

/** A message as hand-made wire value, in randomly mixed accepted forms (array/map, bin/text uuids…). */
export function messageWire(msg: ZmqMessage, forms: WireForms): Wire {
  const schema = MESSAGE_BY_TAG.get(msg.type);
  if (schema === undefined) throw new Error(`unknown type ${msg.type}`);
  return structWire(schema.struct, msg as unknown as Record<string, unknown>, forms, msg.type);
}

/** Every field of every message in named map form (rmp_serde::to_vec_named), uuids as bin. */
export function namedWire(msg: ZmqMessage): Wire {
  return messageWire(msg, {
    mapProbability: 1,
    uuidTextProbability: 0,
    omitProbability: 0,
    random: () => 0.99,
  });
}

/**
 * Deep equality with node's strict rules (prototypes, -0, bigint, typed arrays). Vitest's
 * toStrictEqual also compares `a.constructor === b.constructor`, which a JSON key named
 * "constructor" defeats; it is only used here to print the diff when the values differ.
 */
export function expectSame(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toStrictEqual(expected);
}
