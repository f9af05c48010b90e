/**
 * The codec's fast paths for strings and output buffers (issue 14) against the plain ones they
 * stand in for: strings on either side of each cut-over (the JS loop and Buffer#utf8Write on
 * encode; the JS loop, Buffer#latin1Slice and TextDecoder on decode; one TextDecoder call for a
 * whole `Vec<String>`), at the str header boundaries, and messages of growing sizes through the
 * shared output slab. Bytes are compared with what @msgpack/msgpack writes for the same positional
 * array (with lone surrogates as U+FFFD, as a Rust `String` holds them: shared/protocol/codec/README.md).
 */
import { Encoder } from '@msgpack/msgpack';
import { describe, expect, it, vi } from 'vitest';
import { ProtocolError, decodeMessage, encodeMessage, type ZmqMessage } from '../../../../shared/protocol';
import { MIN_BATCH, readAsciiStrings } from '../../../../shared/protocol/codec/readAsciiStrings';
import { COST_STRING, Reader } from '../../../../shared/protocol/codec/reader';
import type * as Protocol from '../../../../shared/protocol';
import { toHex } from './helpers';

const encoder = new Encoder();
const AGENT = '0f8fad5b-d9cb-469f-a165-70867728950e';
const AGENT_BYTES = Uint8Array.from(AGENT.replace(/-/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));

/** A string as a Rust `String` holds it: every lone surrogate replaced by U+FFFD. */
const wellFormed = (s: string): string =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

const health = (s: string): ZmqMessage => ({ type: 'health_check_request', request_id: s });
const healthRaw = (s: string): unknown[] => ['health_check_request', wellFormed(s)];

const page = (lines: string[]): ZmqMessage => ({
  type: 'output_query_response',
  request_id: 'r',
  agent_id: AGENT,
  success: true,
  lines,
  total_lines: null,
  has_more: false,
  error: null,
});
const pageRaw = (lines: string[]): unknown[] => [
  'output_query_response',
  'r',
  AGENT_BYTES,
  true,
  lines.map(wellFormed),
  null,
  false,
  null,
];

/** Encodes, compares the bytes with @msgpack/msgpack's, decodes and compares the message. */
function roundTrips(msg: ZmqMessage, raw: unknown[], expected: unknown): void {
  const bytes = encodeMessage(msg);
  expect(toHex(bytes)).toBe(toHex(encoder.encode(raw)));
  expect(decodeMessage(bytes)).toStrictEqual(expected);
}

/** A string of `n` UTF-16 units built from `unit` (a 2-unit unit counts as 2), cut at `n`. */
const made = (unit: string, n: number): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

const UNITS: Record<string, string> = {
  ascii: 'abcdefghij',
  '2-byte': 'é',
  '3-byte': '€',
  '4-byte': '😀',
  'ASCII then 3-byte': 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789€',
  'lone high surrogate': 'ab\uD800c',
  'lone low surrogate': '\uDC00xyz',
};

/** Lengths around every cut-over: decode 16, encode 32, header guesses 85/86, fixstr/str8/str16. */
const LENGTHS = [0, 1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 40, 41, 63, 64, 65, 85, 86, 100, 255, 256, 257];

describe('strings across the fast-path cut-overs', () => {
  for (const [kind, unit] of Object.entries(UNITS)) {
    it(`${kind}: every length from 0 to 257 units writes the library's bytes and reads back`, () => {
      for (const n of LENGTHS) {
        const s = made(unit, n);
        roundTrips(health(s), healthRaw(s), { type: 'health_check_request', request_id: wellFormed(s) });
      }
    });
  }

  it('reads every length alike in a message over 64 KiB (no one text of the whole message)', () => {
    // A non-ASCII line keeps the page off the one-call path, so each line is read on its own.
    for (const unit of Object.values(UNITS)) {
      const lines = ['é', 'z'.repeat(70_000), ...LENGTHS.map((n) => made(unit, n))];
      roundTrips(page(lines), pageRaw(lines), { ...page(lines.map(wellFormed)) });
    }
  });

  it('refuses invalid UTF-8 in a short or long string of a small or big message', () => {
    for (const pad of [0, 70_000]) {
      for (const n of [3, 7, 8, 12, 16, 17, 40]) {
        const bad = `${'a'.repeat(n - 1)}\u00e9`; // é, its last byte cut below
        const lines = ['é', 'z'.repeat(pad), bad];
        const bytes = encodeMessage(page(lines)).slice();
        // The é's two bytes end the message body before the trailing fields: make it C3 28.
        const at = bytes.lastIndexOf(0xa9);
        expect(bytes[at - 1]).toBe(0xc3);
        bytes[at] = 0x28;
        expect(() => decodeMessage(bytes)).toThrow(/lines\[2\].*string is not valid UTF-8/);
      }
    }
  });

  it('a lone surrogate at the very end of a long string becomes U+FFFD', () => {
    for (const n of [20, 40, 70, 100]) {
      const s = `${'a'.repeat(n)}\uD83D`;
      const bytes = encodeMessage(health(s));
      expect(toHex(bytes).endsWith('efbfbd')).toBe(true);
      expect((decodeMessage(bytes) as { request_id: string }).request_id).toBe(`${'a'.repeat(n)}\uFFFD`);
    }
  });

  it('strings whose UTF-8 length sits on a str header boundary (31/32, 255/256, 65535/65536 bytes)', () => {
    for (const bytes of [31, 32, 255, 256, 65535, 65536]) {
      for (const [lead, size] of [
        ['a', 1],
        ['é', 2],
        ['€', 3],
        ['😀', 4],
      ] as const) {
        // As many `lead`s as fit, then ASCII up to the exact byte length.
        const count = Math.floor(bytes / size);
        const s = lead.repeat(count) + 'z'.repeat(bytes - count * size);
        expect(Buffer.byteLength(s)).toBe(bytes);
        roundTrips(health(s), healthRaw(s), { type: 'health_check_request', request_id: s });
      }
    }
  });
});

describe('a Vec<String> read in one go', () => {
  const lines = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));
  const expectedPage = (ls: string[]) => ({
    type: 'output_query_response',
    request_id: 'r',
    agent_id: AGENT,
    success: true,
    lines: ls.map(wellFormed),
    total_lines: null,
    has_more: false,
    error: null,
  });

  it('reads ASCII lines of every header size, around the batch threshold and array16', () => {
    for (const n of [MIN_BATCH - 1, MIN_BATCH, MIN_BATCH + 1, 15, 16, 17, 1000]) {
      // str32 lines only in the short arrays: a thousand of them would pass the 10 MiB limit.
      const sizes =
        n < 100 ? [0, 1, 31, 32, 255, 256, 65535, 65536, 13, 12] : [0, 1, 31, 32, 255, 256, 13, 12];
      const ls = lines(n, (i) => 'x'.repeat(sizes[i % sizes.length] as number));
      roundTrips(page(ls), pageRaw(ls), expectedPage(ls));
    }
  });

  it('falls back to string by string for non-ASCII, a BOM and lone surrogates, with the same result', () => {
    for (const odd of ['é', '€ euro', '😀', '\uFEFFbom', 'a\uD800b', '\u0080']) {
      for (const at of [0, 4, 9]) {
        const ls = lines(10, (i) => (i === at ? odd : `line ${i} ${'-'.repeat(i * 5)}`));
        roundTrips(page(ls), pageRaw(ls), expectedPage(ls));
      }
    }
  });

  it('takes the one-call path for ASCII, charging what string by string would, and leaves the rest untouched', () => {
    const strs = (ls: string[]): Uint8Array => {
      const body = encoder.encode(ls);
      return body.subarray(1); // drop the fixarray header: just the strs
    };
    const ascii = ['a', '', 'x'.repeat(40), 'y'.repeat(300), 'tail'];
    const r = new Reader();
    const bytes = strs(ascii);
    r.reset(bytes);
    const budget = r.budget;
    const out: unknown[] = new Array<unknown>(ascii.length);
    expect(readAsciiStrings(r, out, ascii.length)).toBe(true);
    expect(out).toStrictEqual(ascii);
    expect(r.pos).toBe(bytes.length);
    expect(budget - r.budget).toBe(ascii.length * COST_STRING + bytes.length);
    for (const other of [
      ['a', 'é'],
      ['a', '\uFEFF'],
      ['a', 'b', 'c'],
    ]) {
      const b = strs(other);
      r.reset(b);
      const before = r.budget;
      // 'c' is asked as a 4th string that is not there: truncated.
      expect(readAsciiStrings(r, new Array<unknown>(4), other.length === 3 ? 4 : other.length)).toBe(false);
      expect([r.pos, r.budget]).toStrictEqual([0, before]);
    }
  });

  /** The page's bytes with the body of line `at` (of `ls`, all ASCII) changed by `edit`. */
  function withLine(ls: string[], at: number, edit: (bytes: Uint8Array, body: number) => void): Uint8Array {
    const bytes = new Uint8Array(encodeMessage(page(ls)));
    const marker = new TextEncoder().encode(ls[at]);
    let body = -1;
    for (let p = 0; p + marker.length <= bytes.length && body < 0; p++) {
      if (marker.every((b, k) => bytes[p + k] === b)) body = p;
    }
    edit(bytes, body);
    return bytes;
  }

  const refusal = (bytes: Uint8Array): ProtocolError => {
    try {
      decodeMessage(bytes);
    } catch (e) {
      if (e instanceof ProtocolError) return e;
      throw e;
    }
    throw new Error('expected a ProtocolError');
  };

  it('refuses invalid UTF-8 in any line and names that line', () => {
    const ls = lines(12, (i) => `unique line ${String(i).padStart(2, '0')} of the page`);
    for (const [bad, at] of [
      [[0xff], 0],
      [[0xc3, 0x28], 5],
      [[0xed, 0xa0, 0x80], 11], // a UTF-16 surrogate written as UTF-8 (CESU)
      [[0xe0, 0x80, 0x80], 7], // overlong
    ] as const) {
      const e = refusal(
        withLine(ls, at, (b, body) => {
          b.set(bad, body);
        }),
      );
      expect(e.code).toBe('decode');
      expect(e.path).toBe(`lines[${at}]`);
      expect(e.reason).toBe('string is not valid UTF-8');
    }
  });

  it('a multi-byte sequence cannot run from one line into the next', () => {
    // The last byte of line 3 becomes a lead byte: the next line's header would finish it if the
    // lines were decoded as one text.
    const ls = lines(10, (i) => `line ${i} ends here`);
    const e = refusal(withLine(ls, 3, (b, body) => (b[body + (ls[3] as string).length - 1] = 0xc3)));
    expect(e.path).toBe('lines[3]');
  });

  it('refuses a truncated page, a non-string element and an ext element as before', () => {
    const ls = lines(20, (i) => `line number ${i}`);
    const whole = encodeMessage(page(ls));
    const cut = whole.subarray(0, whole.length - 40);
    expect(refusal(cut).reason).toBe('unexpected end of input (truncated message)');
    const notStr = withLine(ls, 6, (b, body) => (b[body - 1] = 0xc0)); // the header becomes nil
    expect(refusal(notStr).path).toBe('lines[6]');
    const ext = withLine(ls, 2, (b, body) => (b[body - 1] = 0xd4)); // fixext1
    expect(refusal(ext).path).toBe('lines[2]');
  });
});

describe('the output slab across message sizes', () => {
  it('writes every size from bytes to megabytes exactly, and keeps earlier messages intact', () => {
    const kept: [Uint8Array, Uint8Array][] = [];
    for (let size = 1; size <= 3 * 1024 * 1024; size = Math.ceil(size * 1.7)) {
      for (const s of ['x'.repeat(size), 'small', `${'é'.repeat(size >> 3)}!`]) {
        const ls = [s, 'tail'];
        const bytes = encodeMessage(page(ls));
        const expected = encoder.encode(pageRaw(ls)).slice();
        expect(Buffer.compare(bytes, expected)).toBe(0);
        kept.push([bytes, expected]);
      }
    }
    for (const [bytes, expected] of kept) expect(Buffer.compare(bytes, expected)).toBe(0);
  });
});

describe('without Buffer (the codec in a browser)', () => {
  it('writes and reads the same as with it, for every kind and length of string', async () => {
    vi.resetModules();
    vi.stubGlobal('Buffer', undefined);
    let browser: typeof Protocol;
    try {
      browser = await import('../../../../shared/protocol');
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
    for (const unit of Object.values(UNITS)) {
      for (const n of [...LENGTHS, 1000, 70000]) {
        const s = made(unit, n);
        for (const msg of [health(s), page([s, s, s, s, s, s, s, s, 'x'])]) {
          const bytes = encodeMessage(msg);
          expect(Buffer.compare(browser.encodeMessage(msg), bytes)).toBe(0);
          expect(browser.decodeMessage(bytes)).toStrictEqual(decodeMessage(bytes));
        }
      }
    }
    const bad = encodeMessage(health('x'.repeat(50)));
    bad[bad.length - 1] = 0xff;
    expect(() => browser.decodeMessage(bad)).toThrow('string is not valid UTF-8');
  });
});
