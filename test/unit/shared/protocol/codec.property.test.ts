/**
 * Property-based tests of the codec: round trips for every message type, canonical re-encoding,
 * every accepted wire form decoding alike, and hostile input never throwing anything but
 * ProtocolError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  ProtocolError,
  decodeMessage,
  encodeMessage,
  type JsonValue,
  type ZmqMessage,
} from '../../../../shared/protocol';
import { anyMessage, json, messages, normalize, normalizeJson } from './arbitraries';
import { expectSame, messageWire, prng, toHex } from './helpers';
import { mp, w } from './msgpack-builder';

const RUNS = 300;

/** Runs `f` and returns the thrown error, or null; rethrows nothing. */
function thrown(f: () => unknown): unknown {
  try {
    f();
    return null;
  } catch (e) {
    return e;
  }
}

describe.each(Object.entries(messages))('%s', (_type, arb) => {
  it('round-trips: decode(encode(x)) equals x with absent optionals as null and defaults filled', () => {
    fc.assert(
      fc.property(arb, (raw) => {
        const msg = raw as unknown as ZmqMessage;
        expectSame(decodeMessage(encodeMessage(msg)), normalize(msg));
      }),
      { numRuns: RUNS },
    );
  });

  it('re-encodes decode(encode(x)) to the same bytes', () => {
    fc.assert(
      fc.property(arb, (raw) => {
        const bytes = encodeMessage(raw as unknown as ZmqMessage);
        expect(toHex(encodeMessage(decodeMessage(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('decodes any mix of array/map forms, text/bin uuids and left-out defaults to the same value', () => {
    fc.assert(
      fc.property(
        arb,
        fc.integer(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, seed, mapProbability) => {
          const expected = normalize(raw as unknown as ZmqMessage);
          const wire = messageWire(expected, {
            mapProbability,
            uuidTextProbability: 0.3,
            omitProbability: 0.5,
            random: prng(seed),
          });
          expectSame(decodeMessage(mp(wire)), expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('hostile input', () => {
  const onlyProtocolErrors = (bytes: Uint8Array): void => {
    const e = thrown(() => decodeMessage(bytes));
    if (e !== null && !(e instanceof ProtocolError)) throw e as Error;
  };

  it('random bytes never throw anything but ProtocolError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyProtocolErrors), { numRuns: 2000 });
  });

  it('random bytes after a valid message head never throw anything but ProtocolError', () => {
    const heads = Object.keys(messages).map((t) => mp(t));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 0x90, max: 0x9f }),
        fc.uint8Array({ maxLength: 120 }),
        (i, header, rest) => {
          const head = heads[i] as Uint8Array;
          onlyProtocolErrors(new Uint8Array([header, ...head, ...rest]));
        },
      ),
      { numRuns: 2000 },
    );
  });

  const mutation = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  );

  type Mutation = {
    op: 'flip' | 'set' | 'insert' | 'delete' | 'truncate';
    at: number;
    bit?: number;
    byte?: number;
  };

  function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
    const out = Array.from(bytes);
    const at = out.length === 0 ? 0 : m.at % out.length;
    switch (m.op) {
      case 'flip':
        out[at] = (out[at] ?? 0) ^ (1 << (m.bit ?? 0));
        break;
      case 'set':
        out[at] = m.byte ?? 0;
        break;
      case 'insert':
        out.splice(at, 0, m.byte ?? 0);
        break;
      case 'delete':
        out.splice(at, 1);
        break;
      case 'truncate':
        out.length = at;
    }
    return Uint8Array.from(out);
  }

  it('mutated valid encodings decode or throw ProtocolError; what decodes re-encodes and round-trips', () => {
    fc.assert(
      fc.property(anyMessage, fc.array(mutation, { minLength: 1, maxLength: 4 }), (msg, mutations) => {
        let bytes = encodeMessage(msg);
        for (const m of mutations) bytes = mutate(bytes, m);
        let decoded: ZmqMessage;
        try {
          decoded = decodeMessage(bytes);
        } catch (e) {
          if (e instanceof ProtocolError) return;
          throw e;
        }
        // The encoder accepts everything the decoder returns, and the result is stable.
        const again = encodeMessage(decoded);
        expectSame(decodeMessage(again), decoded);
      }),
      { numRuns: 1500 },
    );
  });

  it('every truncation of a valid encoding is rejected', () => {
    fc.assert(
      fc.property(anyMessage, fc.nat(), (msg, cut) => {
        const bytes = encodeMessage(msg);
        const n = cut % bytes.length;
        expect(thrown(() => decodeMessage(bytes.subarray(0, n)))).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('JSON values', () => {
  it('round-trip through a payload', () => {
    fc.assert(
      fc.property(json, (payload) => {
        const msg = {
          type: 'control_command',
          request_id: 'r',
          agent_id: '00000000-0000-0000-0000-000000000000',
          command_type: 'custom_action',
          payload,
        } as unknown as ZmqMessage;
        expectSame(
          (decodeMessage(encodeMessage(msg)) as { payload: unknown }).payload,
          normalizeJson(payload),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('encode the same whatever the JS key insertion order, with keys in UTF-8 byte order', () => {
    const te = new TextEncoder();
    const cmp = (a: string, b: string) =>
      Buffer.compare(Buffer.from(te.encode(a)), Buffer.from(te.encode(b)));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 8 }),
        fc.integer(),
        (keys, seed) => {
          const random = prng(seed);
          const shuffled = [...keys].sort(() => random() - 0.5);
          const a: Record<string, JsonValue> = {};
          const b: Record<string, JsonValue> = {};
          for (const k of keys) Object.defineProperty(a, k, { value: k.length, enumerable: true });
          for (const k of shuffled) Object.defineProperty(b, k, { value: k.length, enumerable: true });
          const msg = (payload: JsonValue) =>
            encodeMessage({
              type: 'control_command',
              request_id: 'r',
              agent_id: '00000000-0000-0000-0000-000000000000',
              command_type: 'stop',
              payload,
            });
          expect(toHex(msg(a))).toBe(toHex(msg(b)));
          const sorted = [...keys].sort(cmp);
          const head = toHex(msg(null)).slice(0, -2); // everything before the payload's nil
          expect(toHex(msg(a))).toBe(head + toHex(mp(w.map(...sorted.flatMap((k) => [k, k.length])))));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('writes any JS string (lone surrogates included) as its TextEncoder bytes', () => {
    const te = new TextEncoder();
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
          maxLength: 120,
        }),
        (s) => {
          const bytes = encodeMessage({ type: 'health_check_request', request_id: s });
          const tail = bytes.subarray(1 + 21);
          expect(toHex(tail)).toBe(toHex(strFromBytes(te.encode(s))));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** The msgpack str for raw UTF-8 bytes. */
function strFromBytes(b: Uint8Array): Uint8Array {
  const n = b.length;
  const head = n < 32 ? [0xa0 | n] : n < 0x100 ? [0xd9, n] : [0xda, n >> 8, n & 0xff];
  return new Uint8Array([...head, ...b]);
}

describe('oversize', () => {
  it('is refused on encode (code too_large) whatever the message around it', () => {
    fc.assert(
      fc.property(messages.output_query_response, (raw) => {
        const msg = { ...raw, lines: ['x'.repeat(MAX_MESSAGE_BYTES)] } as unknown as ZmqMessage;
        const e = thrown(() => encodeMessage(msg));
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('too_large');
      }),
      { numRuns: 5 },
    );
  });

  it('is refused on decode (code too_large) before parsing', () => {
    fc.assert(
      fc.property(anyMessage, fc.integer({ min: 1, max: 1000 }), (msg, extra) => {
        const bytes = new Uint8Array(MAX_MESSAGE_BYTES + extra);
        bytes.set(encodeMessage(msg));
        const e = thrown(() => decodeMessage(bytes));
        expect(e).toBeInstanceOf(ProtocolError);
        expect((e as ProtocolError).code).toBe('too_large');
      }),
      { numRuns: 5 },
    );
  });
});
