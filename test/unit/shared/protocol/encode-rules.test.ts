/**
 * docs/PROTOCOL.md §2.1 and §2.3, encoding: positional arrays, every field written (None as nil),
 * smallest int forms (bigints included), floats as float64, whole numbers as ints, keys sorted by
 * UTF-8 bytes, str8/16/32, uuids as bin8, SystemTime as [secs, nanos], LogStream.data as an array
 * of uints; validation on encode; the 10 MiB limit.
 */
import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  ProtocolError,
  decodeMessage,
  encodeMessage,
  type ZmqMessage,
} from '../../../../shared/protocol';
import { DEFAULT_BYTE } from '../../../../shared/protocol/codec/encode';
import { defaultOf, type Field } from '../../../../shared/protocol/codec/schema';
import { toHex } from './helpers';
import { mp, w, type Wire } from './msgpack-builder';

const A = '0f8fad5b-d9cb-469f-a165-70867728950e';
const AHEX = A.replace(/-/g, '');
const TIME = { secs_since_epoch: 1764000000, nanos_since_epoch: 123456789 };

const hex = (msg: unknown): string => toHex(encodeMessage(msg as ZmqMessage));
/** A message about agent A: `type` and `agent_id` set, the other fields from `fields`. */
const aboutA = (type: string, fields: Record<string, unknown>): ZmqMessage =>
  ({ type, agent_id: A, ...fields }) as ZmqMessage;
/** A stdout log_stream carrying `data` (which may be anything, to test refusals). */
const logStream = (data: unknown): ZmqMessage =>
  aboutA('log_stream', { stream_type: 'stdout', data, timestamp: TIME, sequence: 1 });
const strHex = (s: string): string => toHex(mp(s));

/** Hex of a control_command whose payload is `payload` (already hex). */
const controlHex = (payloadHex: string): string =>
  `95${strHex('control_command')}${strHex('r')}c410${AHEX}${strHex('custom_action')}${payloadHex}`;
const withPayload = (payload: unknown): string =>
  hex({ type: 'control_command', request_id: 'r', agent_id: A, command_type: 'custom_action', payload });

/** Expects an encode ProtocolError whose message matches. */
function refuses(
  msg: unknown,
  message?: RegExp | string,
  code: 'encode' | 'too_large' = 'encode',
): ProtocolError {
  let caught: unknown;
  try {
    encodeMessage(msg as ZmqMessage);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ProtocolError').toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(err.code).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

describe('positional arrays, every field written, None as nil', () => {
  it('writes [tag, fields…] with nil for absent and null optionals alike', () => {
    const absent = hex({ type: 'command_response', request_id: 'r', agent_id: A, success: true });
    const nulls = hex({
      type: 'command_response',
      request_id: 'r',
      agent_id: A,
      success: true,
      status: null,
      data: null,
      error: null,
    });
    expect(absent).toBe(nulls);
    expect(absent).toBe(`97${strHex('command_response')}${strHex('r')}c410${AHEX}c3c0c0c0`);
  });

  it('writes defaults for undefined defaulted fields, but refuses null there', () => {
    expect(hex({ type: 'batch_control_command', request_id: 'r', agent_ids: [], command_type: 'stop' })).toBe(
      `96${strHex('batch_control_command')}${strHex('r')}90${strHex('stop')}c0c2`,
    );
    expect(hex({ type: 'output_query_response', request_id: 'r', agent_id: A, success: true })).toBe(
      `98${strHex('output_query_response')}${strHex('r')}c410${AHEX}c390c0c2c0`,
    );
    expect(hex({ type: 'list_agents_response', request_id: 'r', success: true })).toBe(
      `95${strHex('list_agents_response')}${strHex('r')}c390c0`,
    );
    expect(hex({ type: 'spawn_request', request_id: 'r', config: {} })).toBe(
      `95${strHex('spawn_request')}${strHex('r')}99a0a0a0c0c080c0c0c0c0c0`,
    );
    refuses(
      {
        type: 'batch_control_command',
        request_id: 'r',
        agent_ids: [],
        command_type: 'stop',
        fail_fast: null,
      },
      /^batch_control_command\.fail_fast: expected a bool, got null/,
    );
    refuses(
      { type: 'spawn_request', request_id: 'r', config: { environment: null } },
      /^spawn_request\.config\.environment: expected a map of strings, got null/,
    );
  });

  it('writes a left-out default as the encoding of its value (schema.ts defaultOf)', () => {
    DEFAULT_BYTE.forEach((byte, def) => {
      expect(toHex(encode(defaultOf({ def } as Field))), `DEF ${def}`).toBe(
        byte.toString(16).padStart(2, '0'),
      );
    });
  });

  it('ignores properties that are not wire fields', () => {
    expect(hex({ type: 'health_check_request', request_id: 'r', extra: 1, toJSON: () => 'x' })).toBe(
      `92${strHex('health_check_request')}${strHex('r')}`,
    );
  });
});

describe('integers in their smallest form', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [2 ** 32 - 1, 'ceffffffff'],
    [2 ** 32, 'cf0000000100000000'],
    [2 ** 53 - 1, 'cf001fffffffffffff'],
    [2n ** 53n, 'cf0020000000000000'],
    [2n ** 64n - 1n, 'cfffffffffffffffff'],
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-128, 'd080'],
    [-129, 'd1ff7f'],
    [-32768, 'd18000'],
    [-32769, 'd2ffff7fff'],
    [-(2 ** 31), 'd280000000'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
    [-(2 ** 53) + 1, 'd3ffe0000000000001'],
    [-(2n ** 63n), 'd38000000000000000'],
    [5n, '05'],
    [-5n, 'fb'],
    [300n, 'cd012c'],
  ];
  it.each(cases)('%s in a JSON value', (v, expected) => {
    expect(withPayload(v)).toBe(controlHex(expected));
  });

  it('in u64 fields, from numbers or bigints', () => {
    const spawn = (t: unknown) =>
      hex({ type: 'spawn_request', request_id: 'r', config: {}, timeout_secs: t });
    expect(spawn(300)).toBe(spawn(300n));
    expect(spawn(2n ** 64n - 1n).endsWith('cfffffffffffffffffc0')).toBe(true);
    expect(spawn(2 ** 60).endsWith('cf1000000000000000c0')).toBe(true);
  });

  it('in i64 (expires_at), positive values as uints like rmp', () => {
    const info = (e: unknown) =>
      hex({
        type: 'spawn_response',
        request_id: 'r',
        success: true,
        agent_info: {
          id: A,
          name: '',
          status: 'idle',
          model_backend: '',
          started_at: TIME,
          task: '',
          attach_info: { connect_url: '', token: '', expires_at: e },
        },
      });
    expect(info(1764003600)).toContain('a0a0ce69248f10c0c0');
    expect(info(-(2n ** 63n))).toContain('a0a0d38000000000000000c0c0');
    expect(info(2n ** 63n - 1n)).toContain('a0a0cf7fffffffffffffffc0c0');
  });

  it('refuses out-of-range and non-integer values in typed fields', () => {
    const spawn = (t: unknown) => ({ type: 'spawn_request', request_id: 'r', config: {}, timeout_secs: t });
    refuses(
      spawn(-1),
      /^spawn_request\.timeout_secs: expected an unsigned integer \(u64\), got the number -1/,
    );
    refuses(spawn(1.5), /got the non-integer 1.5/);
    refuses(spawn(NaN), /got NaN/);
    refuses(spawn(Infinity), /got Infinity/);
    refuses(spawn(2 ** 64), /u64/);
    refuses(spawn(2n ** 64n), /got the bigint 18446744073709551616/);
    refuses(spawn(-1n), /got the bigint -1/);
    refuses(spawn('5'), /expected an unsigned integer, got a string/);
    const lr = (n: unknown) => ({
      type: 'batch_control_response',
      request_id: 'r',
      success: true,
      results: [],
      successful: n,
      failed: 0,
    });
    refuses(lr(true), /^batch_control_response\.successful: expected an unsigned integer, got a boolean/);
  });
});

describe('numbers inside JSON values', () => {
  it('writes non-integers as float64 (cb) and whole numbers as ints', () => {
    expect(withPayload(0.5)).toBe(controlHex('cb3fe0000000000000'));
    expect(withPayload(1.0)).toBe(controlHex('01'));
    expect(withPayload(-2.0)).toBe(controlHex('fe'));
    expect(withPayload(1e-300)).toBe(controlHex('cb01a56e1fc2f8f359'));
  });

  it('keeps -0 as a float so its sign survives', () => {
    expect(withPayload(-0)).toBe(controlHex('cb8000000000000000'));
    expect(
      Object.is(
        (
          decodeMessage(
            encodeMessage({
              type: 'control_command',
              request_id: 'r',
              agent_id: A,
              command_type: 'stop',
              payload: -0,
            }),
          ) as { payload: unknown }
        ).payload,
        -0,
      ),
    ).toBe(true);
  });

  it('writes whole numbers beyond the int64/uint64 range as float64', () => {
    expect(withPayload(2 ** 64)).toBe(controlHex('cb43f0000000000000'));
    expect(withPayload(-(2 ** 63))).toBe(controlHex('d38000000000000000'));
    expect(withPayload(-(2 ** 64))).toBe(controlHex('cbc3f0000000000000'));
  });

  it('refuses NaN, infinities and bigints outside i64/u64', () => {
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'stop', payload: { a: [NaN] } },
      /^control_command\.payload\.a\[0\]: NaN cannot be written in a JSON value/,
    );
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'stop', payload: -Infinity },
      /-Infinity cannot be written/,
    );
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'stop', payload: 2n ** 64n },
      /outside the i64\/u64 range/,
    );
    refuses(
      {
        type: 'control_command',
        request_id: 'r',
        agent_id: A,
        command_type: 'stop',
        payload: -(2n ** 63n) - 1n,
      },
      /outside/,
    );
  });
});

describe('JSON object and HashMap keys sorted by UTF-8 bytes (serde_json / BTreeMap order)', () => {
  it('puts "10" before "9" (JS object order is the other way)', () => {
    expect(withPayload({ 9: 1, 10: 2 })).toBe(controlHex(`82${strHex('10')}02${strHex('9')}01`));
  });

  it('sorts by bytes, not by UTF-16 code units', () => {
    // U+FFFF (ef bf bf) < U+10000 (f0 90 80 80), though '\uffff' > '\ud800' as UTF-16.
    const payload = { '\u{10000}': 1, '\uffff': 2, z: 3, é: 4, Z: 5, '': 6 };
    expect(withPayload(payload)).toBe(
      controlHex(
        `86${strHex('')}06${strHex('Z')}05${strHex('z')}03${strHex('é')}04${strHex('\uffff')}02${strHex('\u{10000}')}01`,
      ),
    );
  });

  it('sorts nested objects and HashMaps too', () => {
    expect(withPayload({ b: { y: 1, x: 2 }, a: [{ d: 1, c: 2 }] })).toBe(
      controlHex(
        `82${strHex('a')}9182${strHex('c')}02${strHex('d')}01${strHex('b')}82${strHex('x')}02${strHex('y')}01`,
      ),
    );
    const meta = hex({
      type: 'health_check_response',
      request_id: 'r',
      healthy: true,
      protocol_version: '1',
      metadata: { region: 'x', host: 'y' },
    });
    expect(meta.endsWith(`82${strHex('host')}${strHex('y')}${strHex('region')}${strHex('x')}`)).toBe(true);
  });

  it('leaves out undefined object properties (as JSON.stringify) and refuses undefined array elements', () => {
    expect(withPayload({ a: 1, b: undefined })).toBe(controlHex(`81${strHex('a')}01`));
    refuses(
      {
        type: 'control_command',
        request_id: 'r',
        agent_id: A,
        command_type: 'stop',
        payload: [1, undefined],
      },
      /^control_command\.payload\[1\]: undefined cannot be written/,
    );
  });

  it('accepts null-prototype objects and writes `__proto__` as an ordinary key', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    Object.defineProperty(o, '__proto__', { value: 2, enumerable: true });
    expect(withPayload(o)).toBe(controlHex(`82${strHex('__proto__')}02${strHex('b')}01`));
  });

  it('refuses values that are not JSON: Date, Map, class instances, typed arrays, functions, symbols', () => {
    class Point {
      x = 1;
    }
    for (const bad of [new Date(0), new Map(), new Point(), new Uint8Array(1), () => 1, Symbol('s')]) {
      refuses(
        { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'stop', payload: { v: bad } },
        /^control_command\.payload\.v: /,
      );
    }
  });

  it('refuses a cyclic value instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'stop', payload: cyclic },
      /nesting deeper than 1023/,
    );
  });

  it('refuses nesting the Rust decoder would refuse, and accepts the deepest it accepts', () => {
    const nested = (d: number): unknown => {
      let v: unknown = 0;
      for (let i = 0; i < d; i++) v = [v];
      return v;
    };
    expect(() => withPayload(nested(1022))).not.toThrow();
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'stop', payload: nested(1023) },
      /nesting deeper/,
    );
  });

  it('refuses non-string HashMap values', () => {
    refuses(
      {
        type: 'health_check_response',
        request_id: 'r',
        healthy: true,
        protocol_version: '1',
        metadata: { n: 1 },
      },
      /^health_check_response\.metadata\.n: expected a string, got the number 1/,
    );
    refuses(
      {
        type: 'health_check_response',
        request_id: 'r',
        healthy: true,
        protocol_version: '1',
        metadata: new Map(),
      },
      /expected a plain object \(map\)/,
    );
  });
});

describe('strings: smallest header by UTF-8 byte length', () => {
  const req = (s: string) => hex({ type: 'health_check_request', request_id: s }).slice(2 + 2 * 21);
  it.each([
    [0, 'a0'],
    [31, 'bf'],
    [32, 'd920'],
    [255, 'd9ff'],
    [256, 'da0100'],
    [65535, 'daffff'],
    [65536, 'db00010000'],
  ])('%i ASCII bytes → %s header', (n, header) => {
    expect(req('x'.repeat(n)).slice(0, header.length)).toBe(header);
    expect(req('x'.repeat(n)).length).toBe(header.length + 2 * n);
  });

  it('counts bytes, not chars, for non-ASCII text, on every encoding path', () => {
    const te = new TextEncoder();
    for (const unit of ['é', '日', '🚀']) {
      for (let chars = 1; chars < 120; chars++) {
        const s = unit.repeat(chars);
        expect(req(s), `${chars} × ${unit}`).toBe(toHex(mp(w.strBytes(te.encode(s)))));
      }
    }
    const big = 'é'.repeat(40000); // 80 000 bytes: str32, though 40 000 chars would fit str16
    expect(req(big).slice(0, 10)).toBe('db00013880');
  });

  it('writes lone surrogates as U+FFFD (as TextEncoder does)', () => {
    expect(req('a\ud800b')).toBe(toHex(mp('a\ufffdb')));
    expect(req('\udc00')).toBe(toHex(mp('\ufffd')));
    expect(req(`${'x'.repeat(100)}\ud83d`)).toBe(toHex(mp(`${'x'.repeat(100)}\ufffd`)));
  });
});

describe('uuids as bin8 (c4 10 …)', () => {
  it('accepts every text form the decoder accepts and writes the 16 bytes', () => {
    for (const text of [A, A.toUpperCase(), AHEX, `{${A}}`, `urn:uuid:${A}`]) {
      expect(
        hex({ type: 'control_command', request_id: 'r', agent_id: text, command_type: 'stop' }),
      ).toContain(`c410${AHEX}`);
    }
  });

  it('refuses anything else, naming the field', () => {
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: 'not-a-uuid', command_type: 'stop' },
      /^control_command\.agent_id: invalid uuid "not-a-uuid"/,
    );
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A.slice(1), command_type: 'stop' },
      /invalid uuid/,
    );
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: new Uint8Array(16), command_type: 'stop' },
      /expected a uuid string, got a Uint8Array/,
    );
    refuses(
      { type: 'batch_control_command', request_id: 'r', agent_ids: [A, 'x'], command_type: 'stop' },
      /^batch_control_command\.agent_ids\[1\]: invalid uuid/,
    );
    refuses(
      { type: 'control_command', request_id: 'r', command_type: 'stop' },
      /^control_command\.agent_id: missing required field/,
    );
  });
});

describe('enums, tags and other validation', () => {
  it('refuses an unknown enum value', () => {
    refuses(
      { type: 'control_command', request_id: 'r', agent_id: A, command_type: 'Pause' },
      /^control_command\.command_type: expected one of "pause", .*got "Pause"/,
    );
    refuses(
      { type: 'list_agents_request', request_id: 'r', filter_status: 'sleeping' },
      /^list_agents_request\.filter_status: expected one of/,
    );
  });

  it('refuses an unknown or missing type, and non-objects', () => {
    const err = refuses({ type: 'reboot', request_id: 'r' }, 'message.type: unknown message type "reboot"');
    expect(err.messageType).toBeNull();
    expect(err.path).toBe('type');
    refuses({ request_id: 'r' }, /expected the message type as a string, got undefined/);
    refuses(null, /^message: expected a message object, got null/);
    refuses([1], /got an array/);
    refuses('health_check_request', /got a string/);
  });

  it('refuses wrong types for str, bool, struct and array fields', () => {
    refuses(
      { type: 'health_check_request', request_id: 1 },
      /^health_check_request\.request_id: expected a string, got the number 1/,
    );
    refuses(
      { type: 'spawn_response', request_id: 'r', success: 'yes' },
      /^spawn_response\.success: expected a bool, got a string/,
    );
    refuses(
      { type: 'spawn_request', request_id: 'r', config: [] },
      /^spawn_request\.config: expected AgentConfig as an object, got an array/,
    );
    refuses(
      { type: 'list_agents_response', request_id: 'r', success: true, agents: {} },
      /^list_agents_response\.agents: expected an array, got an object/,
    );
    refuses(
      { type: 'output_query_response', request_id: 'r', agent_id: A, success: true, lines: ['a', 2] },
      /^output_query_response\.lines\[1\]: expected a string, got the number 2/,
    );
    refuses(
      { type: 'health_check_request', request_id: null },
      /^health_check_request\.request_id: expected a string, got null/,
    );
  });
});

describe('SystemTime as [secs, nanos]', () => {
  const hb = (timestamp: unknown) => aboutA('status_update', { update_type: 'heartbeat', timestamp });
  it('writes a fixarray of two uints', () => {
    expect(hex(hb(TIME)).endsWith('92ce69248100ce075bcd15')).toBe(true);
    expect(
      hex(hb({ secs_since_epoch: 2n ** 63n - 1n, nanos_since_epoch: 0 })).endsWith('92cf7fffffffffffffff00'),
    ).toBe(true);
  });

  it('carries nanos ≥ 1e9 into the seconds', () => {
    expect(hex(hb({ secs_since_epoch: 1, nanos_since_epoch: 2_000_000_005 }))).toBe(
      hex(hb({ secs_since_epoch: 3, nanos_since_epoch: 5 })),
    );
  });

  it('refuses what the Rust decoder would refuse, and Dates', () => {
    refuses(
      hb({ secs_since_epoch: -1, nanos_since_epoch: 0 }),
      /^status_update\.timestamp\.secs_since_epoch: expected an unsigned integer/,
    );
    refuses(hb({ secs_since_epoch: 2n ** 63n, nanos_since_epoch: 0 }), /SystemTime out of range/);
    refuses(
      hb({ secs_since_epoch: 2n ** 63n - 1n, nanos_since_epoch: 1_000_000_000 }),
      /SystemTime out of range/,
    );
    refuses(
      hb({ secs_since_epoch: 1, nanos_since_epoch: 2 ** 32 }),
      /^status_update\.timestamp\.nanos_since_epoch: expected nanoseconds/,
    );
    refuses(hb({ secs_since_epoch: 1, nanos_since_epoch: 0.5 }), /nanos_since_epoch/);
    refuses(hb({ secs_since_epoch: 1 }), /nanos_since_epoch: expected nanoseconds .* got undefined/);
    refuses(
      hb(new Date()),
      /^status_update\.timestamp: expected \{secs_since_epoch, nanos_since_epoch\}, got a Date/,
    );
    refuses(hb(1764000000), /got the number/);
  });
});

describe('LogStream.data as an array of uints, never bin', () => {
  it('writes the same bytes from a Uint8Array, a Buffer and number[]', () => {
    const bytes = [0, 1, 127, 128, 255];
    const expected = hex(logStream(bytes));
    expect(expected).toContain('950001' + '7fcc80ccff');
    expect(hex(logStream(Uint8Array.from(bytes)))).toBe(expected);
    expect(hex(logStream(Buffer.from(bytes)))).toBe(expected);
  });

  it('uses array16/array32 headers for long data', () => {
    expect(hex(logStream(new Uint8Array(16)))).toContain(`dc0010${'00'.repeat(16)}92`);
    expect(hex(logStream(new Uint8Array(70000)))).toContain('dd00011170');
  });

  it('refuses non-bytes', () => {
    refuses(
      logStream([1, 256]),
      /^log_stream\.data\[1\]: expected a byte \(integer 0\.\.255\), got the number 256/,
    );
    refuses(logStream([-1]), /data\[0\]/);
    refuses(logStream([1.5]), /data\[0\]/);
    refuses(logStream('abc'), /^log_stream\.data: expected a Uint8Array or an array of bytes, got a string/);
    refuses(logStream(new Uint16Array(2)), /expected a Uint8Array or an array of bytes/);
  });
});

/** An output page of one line of `len` bytes. */
const lineMsg = (len: number) => ({
  type: 'output_query_response',
  request_id: 'r',
  agent_id: A,
  success: true,
  lines: ['x'.repeat(len)],
});

describe('10 MiB limit on encode', () => {
  it('encodes a message of exactly MAX_MESSAGE_BYTES and refuses one byte more with code too_large', () => {
    const base = encodeMessage(lineMsg(70000) as ZmqMessage).length;
    const exact = 70000 + (MAX_MESSAGE_BYTES - base);
    expect(encodeMessage(lineMsg(exact) as ZmqMessage).length).toBe(MAX_MESSAGE_BYTES);
    const err = refuses(lineMsg(exact + 1), /exceed the 10485760-byte limit/, 'too_large');
    expect(err.messageType).toBe('output_query_response');
  });

  it('refuses huge strings, many lines and big data without building them', () => {
    refuses(lineMsg(11 * 1024 * 1024), undefined, 'too_large');
    refuses(
      { ...lineMsg(0), lines: Array.from({ length: 200_000 }, () => 'y'.repeat(60)) },
      undefined,
      'too_large',
    );
    refuses(logStream(new Uint8Array(6 * 1024 * 1024).fill(200)), undefined, 'too_large');
  });

  it('sizes byte data exactly near the limit (6 MiB of small bytes fits)', () => {
    const data = new Uint8Array(6 * 1024 * 1024).fill(7);
    data[0] = 200;
    const bytes = encodeMessage(logStream(data));
    const empty = encodeMessage(logStream(new Uint8Array(0))).length;
    // fixarray(0) becomes an array32 header (+4), each byte takes one byte, the 200 takes two.
    expect(bytes.length).toBe(empty + 4 + data.length + 1);
    const decoded = (decodeMessage(bytes) as { data: Uint8Array }).data;
    expect(Buffer.compare(decoded, data)).toBe(0); // (toStrictEqual is far too slow on 6 MiB)
  });

  it('writes all-ASCII byte data as the bytes themselves, exactly sized, in a full slab', () => {
    // 64 KiB of log text (the size of a published chunk): its array body is the bytes.
    const data = new Uint8Array(64 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = i % 10 === 9 ? 0x0a : 0x61 + (i % 26);
    const messages = Array.from({ length: 6 }, () => encodeMessage(logStream(data)));
    const empty = encodeMessage(logStream(new Uint8Array(0))).length;
    for (const bytes of messages) {
      // fixarray(0) becomes an array32 header (+4); then one byte per byte.
      expect(bytes.length).toBe(empty + 4 + data.length);
      expect(Buffer.compare((decodeMessage(bytes) as { data: Uint8Array }).data, data)).toBe(0);
    }
    // Each message keeps its own bytes while later ones fill the slab after it.
    expect(Buffer.compare(messages[0] as Uint8Array, messages[5] as Uint8Array)).toBe(0);
  });

  it('counts a prefix outside the limit: a message of exactly MAX_MESSAGE_BYTES still encodes after one', () => {
    const base = encodeMessage(lineMsg(70000) as ZmqMessage).length;
    const exact = 70000 + (MAX_MESSAGE_BYTES - base);
    const topic = Buffer.from(`${A}\0`, 'latin1');
    const framed = encodeMessage(lineMsg(exact) as ZmqMessage, topic);
    expect(framed.length).toBe(topic.length + MAX_MESSAGE_BYTES);
    expect(Buffer.compare(framed.subarray(0, topic.length), topic)).toBe(0);
    expect(() => encodeMessage(lineMsg(exact + 1) as ZmqMessage, topic)).toThrow(
      /exceed the 10485760-byte limit/,
    );
  });

  it('keeps working after a refused message', () => {
    refuses(lineMsg(11 * 1024 * 1024), undefined, 'too_large');
    expect(hex({ type: 'health_check_request', request_id: 'r' })).toBe(
      `92${strHex('health_check_request')}${strHex('r')}`,
    );
  });
});

describe('the encoder output', () => {
  it('is never written over by later messages (they share a slab, each in its own bytes)', () => {
    const a = encodeMessage({ type: 'health_check_request', request_id: 'a' });
    const aHex = toHex(a);
    const later: Uint8Array[] = [];
    // Enough messages to fill several slabs, with a refused one and a big one among them.
    for (let i = 0; i < 2000; i++) {
      later.push(encodeMessage({ type: 'health_check_request', request_id: `r${i}`.repeat(1 + (i % 7)) }));
      if (i === 500) refuses(lineMsg(11 * 1024 * 1024), undefined, 'too_large');
      if (i === 900) later.push(encodeMessage(lineMsg(2 * 1024 * 1024) as ZmqMessage));
    }
    expect(toHex(a)).toBe(aHex);
    expect(aHex).toBe(`92${strHex('health_check_request')}${strHex('a')}`);
    later.forEach((b, i) => {
      if (b.length > 1000) return; // the big one
      const k = i > 901 ? i - 1 : i;
      expect(toHex(b)).toBe(`92${strHex('health_check_request')}${strHex(`r${k}`.repeat(1 + (k % 7)))}`);
    });
    const spans = [a, ...later]
      .filter((b) => b.buffer === a.buffer)
      .map((b) => [b.byteOffset, b.byteOffset + b.byteLength] as const);
    expect(spans.length).toBeGreaterThan(1);
    for (let i = 1; i < spans.length; i++) {
      expect((spans[i] as [number, number])[0]).toBeGreaterThanOrEqual((spans[i - 1] as [number, number])[1]);
    }
  });

  it('survives a getter that encodes another message mid-way', () => {
    const inner = { type: 'health_check_request', request_id: 'inner' } as const;
    let innerBytes = '';
    const outer = {
      type: 'health_check_request',
      get request_id() {
        innerBytes = toHex(encodeMessage(inner));
        return 'outer';
      },
    };
    expect(hex(outer)).toBe(`92${strHex('health_check_request')}${strHex('outer')}`);
    expect(innerBytes).toBe(`92${strHex('health_check_request')}${strHex('inner')}`);
  });

  it('round-trips a message written in every form through decode back to the same bytes', () => {
    const msg: Wire = w.map('type', 'health_check_request', 'request_id', 'r');
    expect(toHex(encodeMessage(decodeMessage(mp(msg))))).toBe(
      `92${strHex('health_check_request')}${strHex('r')}`,
    );
  });
});

describe('a prefix before the message (a PUB frame: topic, NUL, msgpack)', () => {
  it('is written before exactly the bytes the message encodes to alone', () => {
    const topic = Buffer.from(`status.${A}\0`, 'latin1');
    const messages = [
      logStream(new Uint8Array([104, 105, 10])),
      logStream(new Uint8Array(70 * 1024).fill(0x41)),
      { type: 'health_check_request', request_id: 'r' },
    ];
    for (const msg of messages) {
      const alone = Buffer.from(encodeMessage(msg as ZmqMessage));
      const framed = encodeMessage(msg as ZmqMessage, topic);
      expect(Buffer.compare(framed.subarray(0, topic.length), topic)).toBe(0);
      expect(Buffer.compare(framed.subarray(topic.length), alone)).toBe(0);
    }
  });
});

describe('byte data: finding the bytes that take two (four at a time when long)', () => {
  it('writes every byte >= 0x80 as cc + byte wherever it lies: first, last, inside a word, unaligned', () => {
    const backing = new Uint8Array(300);
    for (const length of [63, 64, 65, 67, 128, 131]) {
      for (let offset = 0; offset < 4; offset++) {
        for (const at of [0, 1, 2, 3, 4, Math.floor(length / 2), length - 4, length - 1]) {
          backing.fill(0x61);
          const data = backing.subarray(offset, offset + length);
          data[at] = 0x80 + at;
          // The number[] form of the same data takes the other path of the encoder: the reference.
          const expected = Buffer.from(encodeMessage(logStream(Array.from(data))));
          const got = Buffer.from(encodeMessage(logStream(data)));
          expect(Buffer.compare(got, expected), `length ${length} offset ${offset} high byte at ${at}`).toBe(
            0,
          );
        }
      }
    }
  });
});

describe('the slab after a big write', () => {
  it('gives a big log event a buffer of its own and the next message the slab it left, every message intact', () => {
    const before = encodeMessage({ type: 'health_check_request', request_id: 'before' });
    const beforeCopy = Buffer.from(before);
    const big = new Uint8Array(64 * 1024).fill(0x62);
    const event = encodeMessage(logStream(big));
    const after = encodeMessage({ type: 'health_check_request', request_id: 'after' });
    expect(event.buffer).not.toBe(before.buffer);
    // Exactly sized: the event's buffer holds it and at most a small tail.
    expect(event.buffer.byteLength - event.length).toBeLessThanOrEqual(64);
    expect(after.buffer).toBe(before.buffer);
    expect(after.byteOffset).toBe(before.byteOffset + before.length);
    expect(Buffer.compare(Buffer.from(before), beforeCopy)).toBe(0);
    expect(Buffer.compare((decodeMessage(event) as { data: Uint8Array }).data, big)).toBe(0);
    expect(decodeMessage(after)).toEqual({ type: 'health_check_request', request_id: 'after' });
  });

  it('goes back to that slab when the big message is refused after its big write', () => {
    const before = encodeMessage({ type: 'health_check_request', request_id: 'before' });
    // The data is written, then the sequence (a u64) is refused.
    const bad = aboutA('log_stream', {
      stream_type: 'stdout',
      data: new Uint8Array(32 * 1024).fill(0x63),
      timestamp: TIME,
      sequence: -1,
    });
    expect(() => encodeMessage(bad)).toThrow(ProtocolError);
    const after = encodeMessage({ type: 'health_check_request', request_id: 'after' });
    expect(after.buffer).toBe(before.buffer);
    expect(after.byteOffset).toBe(before.byteOffset + before.length);
    expect(decodeMessage(after)).toEqual({ type: 'health_check_request', request_id: 'after' });
  });
});
