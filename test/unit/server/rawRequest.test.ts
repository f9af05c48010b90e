/**
 * The salvage path (issue 11.1): peekRawRequest reads just the tag and request id of a frame the
 * codec rejected, by hand, with bounded work. Checked against a general msgpack decoder on
 * random values, on every prefix of real messages, and on hostile frames up to 10 MiB.
 */
import { decode as referenceDecode, encode as referenceEncode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage, MAX_MESSAGE_BYTES } from '../../../shared/protocol';
import { PEEK_MAX_STRING_BYTES, peekRawRequest } from '../../../server/rawRequest';
import { HOSTILE_CASES, HOSTILE_REQUEST_ID } from '../../../fuzz/hostileFrames';
import { MsgpackWriter } from '../../../fuzz/msgpackWriter';
import { Prng } from '../../../fuzz/prng';
import { anyMessage } from '../shared/protocol/arbitraries';

/**
 * Vitest's limit for the sweeps over tens of MiB and thousands of random frames: seconds on a
 * quiet 2-core machine, more under load. They assert what is read, never how fast.
 */
const HEAVY_TEST_MS = 60_000;

const ID = '6f1c2a9e-5b7d-4c3e-9a8b-0d1e2f3a4b5c';

/**
 * What a general decoder says the tag and request id are (the old implementation, for reference),
 * or what peek says when that decoder refuses the frame (it refuses a `__proto__` key anywhere,
 * where peek still reads the tag).
 */
function expectedPeek(bytes: Uint8Array): { tag: string | null; requestId: string | null } {
  let value: unknown;
  try {
    value = referenceDecode(bytes, { useBigInt64: true });
  } catch {
    return peekRawRequest(bytes);
  }
  let tag: unknown = null;
  let requestId: unknown = null;
  if (Array.isArray(value)) [tag, requestId] = value as unknown[];
  else if (typeof value === 'object' && value !== null) {
    tag = (value as Record<string, unknown>).type;
    requestId = (value as Record<string, unknown>).request_id;
  }
  return {
    tag: typeof tag === 'string' ? tag : null,
    requestId: typeof requestId === 'string' ? requestId : null,
  };
}

describe('peekRawRequest: what it reads', () => {
  it('array form: elements 0 and 1 when they are strings', () => {
    expect(peekRawRequest(referenceEncode(['health_check_request', ID]))).toEqual({
      tag: 'health_check_request',
      requestId: ID,
    });
    expect(peekRawRequest(referenceEncode(['launch_missiles', ID, 'now']))).toEqual({
      tag: 'launch_missiles',
      requestId: ID,
    });
    expect(peekRawRequest(referenceEncode([[1, 2, { a: [3] }], ID]))).toEqual({ tag: null, requestId: ID });
    expect(peekRawRequest(referenceEncode(['spawn_request', 42]))).toEqual({
      tag: 'spawn_request',
      requestId: null,
    });
    expect(peekRawRequest(referenceEncode(['spawn_request']))).toEqual({
      tag: 'spawn_request',
      requestId: null,
    });
    expect(peekRawRequest(referenceEncode([]))).toEqual({ tag: null, requestId: null });
  });

  it('map form: the first `type` and `request_id` keys, in any order, past keys of any type', () => {
    const w = new MsgpackWriter();
    w.map(5);
    w.map(1).str('type').str('nested keys are skipped, not read'); // a map as a key
    w.array(2).uint(1).uint(2);
    w.uint(7).str('an integer key');
    w.str('request_id').str(ID);
    w.str('type').str('control_command');
    w.str('type').str('a duplicate is not read');
    expect(peekRawRequest(w.bytes())).toEqual({ tag: 'control_command', requestId: ID });
  });

  it('anything but a str value reads as absent, and so do strings over the limit or not UTF-8', () => {
    const long = 'x'.repeat(PEEK_MAX_STRING_BYTES + 1);
    expect(peekRawRequest(referenceEncode({ type: 7, request_id: long }))).toEqual({
      tag: null,
      requestId: null,
    });
    expect(peekRawRequest(referenceEncode(['x'.repeat(PEEK_MAX_STRING_BYTES), ID])).tag).toHaveLength(
      PEEK_MAX_STRING_BYTES,
    );
    const w = new MsgpackWriter();
    w.array(2).str('health_check_request').strHeader(2).raw([0xc3, 0x28]); // invalid UTF-8
    expect(peekRawRequest(w.bytes())).toEqual({ tag: 'health_check_request', requestId: null });
  });

  it('reads no further than the bytes: a truncated frame gives what came before the cut', () => {
    const bytes = encodeMessage({ type: 'health_check_request', request_id: ID });
    for (let cut = 0; cut <= bytes.length; cut++) {
      const peek = peekRawRequest(bytes.subarray(0, cut));
      expect(peek.requestId).toBe(cut === bytes.length ? ID : null);
    }
  });

  it('agrees with a general msgpack decoder on real messages, in array and map form', () => {
    fc.assert(
      fc.property(anyMessage, (msg) => {
        const arrayForm = encodeMessage(msg);
        expect(peekRawRequest(arrayForm)).toEqual(expectedPeek(arrayForm));
        const mapForm = referenceEncode(msg, { useBigInt64: true });
        expect(peekRawRequest(mapForm)).toEqual(expectedPeek(mapForm));
      }),
      { numRuns: 300 },
    );
  });

  it(
    'agrees with a general msgpack decoder on random values and never throws on random bytes',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.tuple(fc.string(), fc.string(), fc.jsonValue()),
            fc.dictionary(fc.constantFrom('type', 'request_id', 'x', ''), fc.jsonValue()),
            fc.jsonValue(),
          ),
          (value) => {
            const bytes = referenceEncode(value);
            expect(peekRawRequest(bytes)).toEqual(expectedPeek(bytes));
          },
        ),
        { numRuns: 500 },
      );
      const prng = new Prng(11);
      for (let i = 0; i < 20_000; i++) {
        const frame = prng.bytes(prng.int(64));
        if (prng.chance(0.5)) frame[0] = prng.pick([0x92, 0x93, 0x82, 0xdc, 0xde, 0xdd, 0xdf]);
        expect(() => peekRawRequest(frame)).not.toThrow();
      }
    },
    HEAVY_TEST_MS,
  );
});

describe('peekRawRequest: hostile frames', () => {
  it('a 21 KB frame of nested maps (it drove the old salvage path to 1.5 GB) reads as nothing at once', () => {
    const frame = new Uint8Array(21 * 1024).fill(0x81);
    expect(peekRawRequest(frame)).toEqual({ tag: null, requestId: null });
  });

  it(
    'every request-side hostile frame of 10 MiB gives back its tag and request id',
    () => {
      for (const c of HOSTILE_CASES.filter((x) => x.side === 'request')) {
        const frame = c.build(MAX_MESSAGE_BYTES - 64);
        expect(peekRawRequest(frame).requestId, c.name).toBe(HOSTILE_REQUEST_ID);
      }
    },
    HEAVY_TEST_MS,
  );

  it(
    '10 MiB of nesting or of 4 G length claims without recursion (no stack overflow) and reads as nothing',
    () => {
      for (const fill of [0x91, 0x81, 0xdd, 0xdf]) {
        const frame = new Uint8Array(MAX_MESSAGE_BYTES).fill(fill);
        expect(peekRawRequest(frame)).toEqual({ tag: null, requestId: null });
      }
      // Junk of every kind before the keys of a map-form request is skipped, not read.
      const w = new MsgpackWriter();
      w.map(4).str('junk').repeat(0x91, 1_000_000).byte(0);
      w.str('more').bin(new Uint8Array(100_000)).str('type').str('health_check_request');
      w.str('request_id').str(ID);
      expect(peekRawRequest(w.bytes())).toEqual({ tag: 'health_check_request', requestId: ID });
    },
    HEAVY_TEST_MS,
  );
});
