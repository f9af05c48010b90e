/**
 * Issue 11.1, bounded decoding: no frame up to 10 MiB, valid or not, makes the decoder allocate
 * more than a small multiple of its size. Structural checks run here (every hostile frame decodes
 * or throws a ProtocolError, with the verdict that bounds it); the measured heap use comes from
 * `fuzz/decodeProbe.ts` run with `--expose-gc` in a child process. Times are printed by that
 * probe (`npm run fuzz -- decode`), never asserted.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidUtf8 } from '../../../../shared/protocol/codec/decode';
import { MAX_MESSAGE_BYTES, ProtocolError, decodeMessage, encodeMessage } from '../../../../shared/protocol';
import {
  COST_NEW_SHAPE,
  HEAP_BASE,
  HEAP_MAX,
  HEAP_PER_INPUT_BYTE,
  heapBudget,
} from '../../../../shared/protocol/codec/reader';
import { HOSTILE_CASES, hostileCase } from '../../../../fuzz/hostileFrames';
import { MsgpackWriter } from '../../../../fuzz/msgpackWriter';
import type { ProbeLine } from '../../../../fuzz/decodeProbe';
import { REPO_ROOT } from '../../../helpers/serverProcess';

const MiB = 1024 * 1024;
const TEN_MIB = MAX_MESSAGE_BYTES - 64;
const AGENT = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** The ProtocolError decoding `bytes` throws, or null when it decodes. Any other throw fails the test. */
function verdict(bytes: Uint8Array): ProtocolError | null {
  try {
    decodeMessage(bytes);
    return null;
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return e;
  }
}

describe('the heap budget', () => {
  it('is 1 MiB + 8 bytes per input byte, at most 12 MiB', () => {
    expect(HEAP_BASE).toBe(MiB);
    expect(HEAP_PER_INPUT_BYTE).toBe(8);
    expect(HEAP_MAX).toBe(12 * MiB);
    expect(heapBudget(0)).toBe(MiB);
    expect(heapBudget(MiB)).toBe(9 * MiB);
    expect(heapBudget(TEN_MIB)).toBe(12 * MiB);
  });
});

/** What each hostile frame of 10 MiB must give: the error that bounds it, or null (decodes). */
const AT_10_MIB: [RegExp | null, string[]][] = [
  [/nesting deeper than 1023/, ['deep-arrays', 'deep-map-values', 'status-deep-data', 'map-form-junk-first']],
  [/JSON object keys must be strings/, ['deep-map-keys']],
  [/unexpected end of input/, ['deep-huge-claims', 'huge-array-claim', 'huge-map-claim', 'huge-str-claim']],
  [/bin is not allowed/, ['huge-bin-claim']],
  [/ext value is not allowed/, ['huge-ext-claim']],
  [
    /message too dense to decode/,
    [
      'nested-claims-bytes-left',
      'empty-arrays',
      'empty-maps',
      'singletons',
      'fixints',
      'nils',
      'floats',
      'short-strings',
      'short-utf8-strings',
      'many-keys-one-map',
      'distinct-key-objects',
      'unique-pair-objects',
      'same-key-records',
      'big-u64s',
      'big-i64s',
      'batch-many-uuids',
      'spawn-environment-keys',
      'list-many-agents',
      'output-many-lines',
    ],
  ],
  // One byte of heap per byte: the biggest legitimate values.
  [null, ['long-string', 'log-big-chunk']],
];

/**
 * The same fillers as the value of an unknown map key, which the decoder skips without building
 * anything: only what no valid message can hold is refused; density costs nothing there.
 */
const SKIPPED_AT_10_MIB: [RegExp | null, string[]][] = [
  [
    /nesting deeper than 1023/,
    ['deep-arrays', 'deep-map-keys', 'deep-map-values', 'nested-claims-bytes-left'],
  ],
  [
    /unexpected end of input/,
    ['deep-huge-claims', 'huge-array-claim', 'huge-map-claim', 'huge-str-claim', 'huge-bin-claim'],
  ],
  [/ext value is not allowed/, ['huge-ext-claim']],
];

function expectedAt10MiB(caseName: string): RegExp | null {
  const [side = '', short = ''] = caseName.split('/');
  if (side === 'skip') return SKIPPED_AT_10_MIB.find(([, names]) => names.includes(short))?.[0] ?? null;
  const found = AT_10_MIB.find(([, names]) => names.includes(short));
  if (found === undefined) throw new Error(`no expected verdict for ${caseName}`);
  return found[0];
}

describe('hostile frames', () => {
  it.each([64 * 1024, MiB])(
    'every one of %i bytes decodes or throws a ProtocolError',
    (size) => {
      for (const c of HOSTILE_CASES) {
        const frame = c.build(size);
        expect(frame.length, c.name).toBeLessThanOrEqual(size);
        verdict(frame); // throws (failing the test) on anything but a ProtocolError
      }
    },
    60_000,
  );

  it('every one of 10 MiB gives the verdict that bounds it', () => {
    for (const c of HOSTILE_CASES) {
      const frame = c.build(TEN_MIB);
      expect(frame.length, c.name).toBeLessThanOrEqual(TEN_MIB);
      const expected = expectedAt10MiB(c.name);
      const error = verdict(frame);
      if (expected === null) expect(error, c.name).toBeNull();
      else expect(error?.message, c.name).toMatch(expected);
    }
  }, 60_000);

  it('integers beyond 2^53 are charged for the time a BigInt takes: a 1 MiB frame of them is refused', () => {
    // ~116 000 BigInts would fit the memory budget of 1 MiB, and take 10-20 ms to make.
    expect(verdict(hostileCase('request/big-u64s').build(MiB))?.message).toMatch(
      /message too dense to decode/,
    );
    expect(verdict(hostileCase('request/big-i64s').build(MiB))?.message).toMatch(
      /message too dense to decode/,
    );
    expect(verdict(hostileCase('request/big-u64s').build(16 * 1024))).toBeNull(); // ~1 800 of them
  });

  it('a count that passes the bytes-left check is charged before anything is allocated', () => {
    // Each level claims every byte left: a decoder that trusted it would preallocate ~80 MiB per level.
    const error = verdict(hostileCase('request/nested-claims-bytes-left').build(TEN_MIB));
    expect(error?.path).toBe('params');
  });
});

describe('skipping an unknown field', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const accepts = (bytes: Uint8Array): boolean => {
    try {
      fatal.decode(bytes);
      return true;
    } catch {
      return false;
    }
  };

  it('checks strings in place exactly as a fatal TextDecoder does', () => {
    // Bytes around every boundary of UTF-8: continuation bytes, overlongs, surrogates, > U+10FFFF.
    const edgy = fc.constantFrom(
      0x00,
      0x41,
      0x7f,
      0x80,
      0x8f,
      0x90,
      0x9f,
      0xa0,
      0xbf,
      0xc0,
      0xc1,
      0xc2,
      0xdf,
      0xe0,
      0xed,
      0xef,
      0xf0,
      0xf4,
      0xf5,
      0xff,
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(edgy, fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), (bytes) => {
        const b = Uint8Array.from(bytes);
        expect(isValidUtf8(b, 0, b.length)).toBe(accepts(b));
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const b = new TextEncoder().encode(text);
        expect(isValidUtf8(b, 0, b.length)).toBe(true);
      }),
    );
  });

  it('counts nesting exactly as building does: 1022 levels under the message pass, 1023 do not', () => {
    // The message map is level 1; `levels` arrays under it, the innermost empty, holding `[0]`
    // or holding a one-byte value: each shape goes through another fast path of the skip.
    const nested = (levels: number, innermost: number[]): Uint8Array => {
      const w = new MsgpackWriter();
      w.map(3).str('type').str('health_check_request').str('request_id').str('r').str('x');
      w.repeat(0x91, levels - 1).raw(innermost);
      return w.bytes();
    };
    for (const innermost of [[0x90], [0x91, 0x00], [0x92, 0xc0, 0x80]]) {
      // The empty map inside the last shape is one level more.
      const deepest = innermost.includes(0x80) ? 1021 : 1022;
      expect(verdict(nested(deepest, innermost)), JSON.stringify(innermost)).toBeNull();
      expect(verdict(nested(deepest + 1, innermost))?.message, JSON.stringify(innermost)).toMatch(
        /nesting deeper than 1023/,
      );
    }
  });

  it('refuses invalid UTF-8 and ext in a skipped value, at any depth', () => {
    const withUnknown = (value: (w: MsgpackWriter) => void): Uint8Array => {
      const w = new MsgpackWriter();
      w.map(3).str('type').str('health_check_request').str('request_id').str('r').str('x');
      value(w);
      return w.bytes();
    };
    expect(verdict(withUnknown((w) => w.array(2).str('é').map(1).str('k').str('ok')))).toBeNull();
    expect(
      verdict(withUnknown((w) => w.array(1).map(1).str('k').strHeader(2).raw([0xed, 0xa0])))?.message,
    ).toMatch(/not valid UTF-8/);
    expect(verdict(withUnknown((w) => w.array(1).array(1).byte(0xd4).byte(1).byte(0)))?.message).toMatch(
      /ext value is not allowed/,
    );
    expect(verdict(withUnknown((w) => w.array(1).array(1).byte(0xc1)))?.message).toMatch(
      /invalid marker 0xc1/,
    );
  });
});

describe('what stays accepted', () => {
  it('an output page of 10 000 lines of 1 000 bytes (the server maximum, ~10 MB)', () => {
    const line = 'x'.repeat(1000);
    const msg = {
      type: 'output_query_response' as const,
      request_id: 'r',
      agent_id: AGENT,
      success: true,
      lines: Array.from({ length: 10_000 }, () => line),
      total_lines: 10_000,
      has_more: false,
      error: null,
    };
    const bytes = encodeMessage(msg);
    expect(bytes.length).toBeGreaterThan(10_000_000);
    expect(decodeMessage(bytes)).toMatchObject({ type: 'output_query_response', total_lines: 10_000 });
  });

  it('a list of 10 000 agents', () => {
    const agent = {
      id: AGENT,
      name: 'worker-with-a-name',
      status: 'running' as const,
      model_backend: 'shell',
      started_at: { secs_since_epoch: 1_764_000_000, nanos_since_epoch: 5 },
      task: 'for i in 1 2 3; do echo step $i; sleep 1; done',
      paused_at: null,
      pause_mode: null,
      attach_info: null,
    };
    const msg = {
      type: 'list_agents_response' as const,
      request_id: 'r',
      success: true,
      agents: Array.from({ length: 10_000 }, () => agent),
      error: null,
    };
    const decoded = decodeMessage(encodeMessage(msg));
    expect(decoded.type === 'list_agents_response' && decoded.agents.length).toBe(10_000);
  });

  it('20 000 JSON records that share their keys, and an object of 1 000 distinct keys in a small message', () => {
    const records = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `agent-${i}`, ok: true }));
    const env = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`VAR_${i}`, 'x']));
    for (const data of [records, env]) {
      const msg = {
        type: 'command_response' as const,
        request_id: 'r',
        agent_id: AGENT,
        success: true,
        status: null,
        data,
        error: null,
      };
      expect(decodeMessage(encodeMessage(msg))).toMatchObject({ data });
    }
  });

  it('new object shapes cost COST_NEW_SHAPE: 1 024 fit in any message, then the message pays per byte', () => {
    const objects = (n: number): Uint8Array => {
      const w = new MsgpackWriter();
      w.array(6).str('command_response').str('r').uuid(AGENT).bool(true).nil();
      w.array(n);
      for (let i = 0; i < n; i++) w.map(1).str(`k${i}`).uint(0);
      return w.bytes();
    };
    expect(COST_NEW_SHAPE).toBe(1024);
    // 900 one-key objects with fresh keys (~8 KB): each is a new hidden class, all within the base.
    expect(verdict(objects(900))).toBeNull();
    // 20 000 of them (~180 KB) would need ~21 MiB of budget: refused.
    expect(verdict(objects(20_000))?.message).toMatch(/message too dense/);
  });
});

describe('measured heap use (fuzz/decodeProbe.ts with --expose-gc)', () => {
  it('every hostile frame allocates at most 2× its budget, and peeking at a rejected request almost nothing', () => {
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'fuzz/decodeProbe.ts', '--json', '--sizes', `65536,${TEN_MIB}`],
      { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 16 * MiB, timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as ProbeLine);
    expect(lines.length).toBeGreaterThan(HOSTILE_CASES.length * 2);
    for (const l of lines) {
      const what = `${l.case} ${l.path} ${l.bytes} bytes: ${JSON.stringify(l.result)}`;
      expect(l.result.outcome, what).not.toBe('other');
      if (l.path === 'decode') {
        expect(l.result.allocated, what).toBeLessThanOrEqual(2 * l.budget);
        expect(l.result.peak, what).toBeLessThanOrEqual(2 * l.budget);
      } else {
        // No allocation per nesting level or per element: at most the two strings it returns.
        // (The probe keeps the least of three peeks, so engine noise in one call cannot fail this;
        // an allocation per element would show in all three.)
        expect(l.result.allocated, what).toBeLessThanOrEqual(256 * 1024);
      }
    }
  }, 180_000);
});
