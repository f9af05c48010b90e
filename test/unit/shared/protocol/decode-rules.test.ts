/**
 * docs/PROTOCOL.md §2.2–2.4, decoding: every rule of "Decoding MUST accept…", "It MUST reject…",
 * "Details that decide the bytes and verdicts" and the bounds, one describe block each, on hand-made inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  AGENT_STATUSES,
  CONTROL_COMMAND_TYPES,
  MAX_MESSAGE_BYTES,
  OUTPUT_STREAMS,
  ProtocolError,
  STATUS_UPDATE_TYPES,
  decodeMessage,
  encodeMessage,
  type ZmqMessage,
} from '../../../../shared/protocol';
import { asDecoded, fromHex, loadVectors, namedWire, toHex } from './helpers';
import { mp, w, type Wire } from './msgpack-builder';

const A = '0f8fad5b-d9cb-469f-a165-70867728950e';
const B = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const T = [1764000000, 123456789];
const TIME = { secs_since_epoch: 1764000000, nanos_since_epoch: 123456789 };

const dec = (v: Wire): ZmqMessage => decodeMessage(mp(v));

/** Expects a decode ProtocolError whose message matches. */
function rejects(v: Wire | Uint8Array, message?: RegExp | string): ProtocolError {
  let caught: unknown;
  try {
    decodeMessage(v instanceof Uint8Array ? v : mp(v));
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ProtocolError').toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(err.code).toBe('decode');
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}

const control = (agentId: Wire, extra: Wire[] = []): Wire => [
  'control_command',
  'r1',
  agentId,
  'pause',
  ...extra,
];
const heartbeat = (time: Wire): Wire => ['status_update', w.uuid(B), 'heartbeat', null, null, null, time];
const agentInfo = (overrides: Partial<Record<number, Wire>> = {}): Wire[] => {
  const fields: Wire[] = [w.uuid(A), 'worker', 'running', 'ollama', T, '', null, null, null];
  for (const [i, v] of Object.entries(overrides)) fields[Number(i)] = v as Wire;
  return fields;
};
const listResponse = (...agents: Wire[]): Wire => ['list_agents_response', 'r1', true, agents, null];

const INFO = {
  id: A,
  name: 'worker',
  status: 'running',
  model_backend: 'ollama',
  started_at: TIME,
  task: '',
  paused_at: null,
  pause_mode: null,
  attach_info: null,
};

describe('map form {"type": tag, field: value, …} at any level, mixed with arrays', () => {
  it('decodes every vector written in named map form (rmp_serde::to_vec_named) like its array form', () => {
    for (const v of loadVectors()) {
      const named = mp(namedWire(asDecoded(v.json)));
      expect(decodeMessage(named), v.name).toStrictEqual(asDecoded(v.json));
    }
  });

  it('matches the named_map vector byte for byte (our test writer is faithful)', () => {
    const msg = decodeMessage(
      fromHex(loadVectors().find((v) => v.name === 'control_command_pause')?.hex ?? ''),
    );
    expect(toHex(mp(namedWire(msg)))).toBe(
      '85a474797065af636f6e74726f6c5f636f6d6d616e64aa726571756573745f6964a87265712d30323030a86167656e745f6964c4100f8fad5bd9cb469fa16570867728950eac636f6d6d616e645f74797065a57061757365a77061796c6f6164c0',
    );
  });

  it('accepts the type key anywhere in the map', () => {
    const expected = { type: 'list_agents_request', request_id: 'r1', filter_status: 'idle', limit: 5 };
    expect(
      dec(w.map('type', 'list_agents_request', 'request_id', 'r1', 'filter_status', 'idle', 'limit', 5)),
    ).toEqual(expected);
    expect(
      dec(w.map('request_id', 'r1', 'type', 'list_agents_request', 'filter_status', 'idle', 'limit', 5)),
    ).toEqual(expected);
    expect(
      dec(w.map('request_id', 'r1', 'filter_status', 'idle', 'limit', 5, 'type', 'list_agents_request')),
    ).toEqual(expected);
  });

  it('accepts nested structs as maps inside an array-form message, and arrays inside a map-form one', () => {
    const infoMap = w.map(
      'started_at',
      w.map('nanos_since_epoch', T[1] as number, 'secs_since_epoch', T[0] as number),
      'task',
      '',
      'id',
      w.uuid(A),
      'name',
      'worker',
      'status',
      'running',
      'model_backend',
      'ollama',
    );
    const expected = {
      type: 'list_agents_response',
      request_id: 'r1',
      success: true,
      agents: [INFO, INFO],
      error: null,
    };
    expect(dec(listResponse(agentInfo(), infoMap))).toStrictEqual(expected);
    expect(
      dec(
        w.map(
          'agents',
          [infoMap, agentInfo()],
          'success',
          true,
          'type',
          'list_agents_response',
          'request_id',
          'r1',
        ),
      ),
    ).toStrictEqual(expected);
  });

  it('accepts a map-form AttachInfo inside an array-form AgentInfo inside a map-form spawn_response', () => {
    const attach = w.map('token', 't', 'expires_at', -5, 'connect_url', 'ipc:///x');
    const msg = dec(
      w.map(
        'type',
        'spawn_response',
        'request_id',
        'r',
        'success',
        true,
        'agent_info',
        agentInfo({ 8: attach }),
      ),
    );
    expect(msg).toStrictEqual({
      type: 'spawn_response',
      request_id: 'r',
      success: true,
      agent_info: { ...INFO, attach_info: { connect_url: 'ipc:///x', token: 't', expires_at: -5 } },
      error: null,
      server_id: null,
    });
  });

  it('ignores unknown keys at every level (no deny_unknown_fields upstream)', () => {
    const msg = dec(
      w.map(
        'type',
        'spawn_request',
        'x-trace',
        w.map('deep', [1, 2, w.map(3, w.bin('00ff'))]),
        'request_id',
        'r',
        'config',
        w.map('name', 'n', 'unknown', [null, true, 1.5]),
      ),
    );
    expect(msg).toMatchObject({
      type: 'spawn_request',
      request_id: 'r',
      config: { name: 'n', environment: {} },
    });
  });

  it('rejects non-string keys in a map-form struct (integer field indices are a serde quirk we refuse)', () => {
    rejects(
      w.map('type', 'health_check_request', 0, 'r'),
      /health_check_request: expected a field name \(string key\)/,
    );
    rejects(w.map('type', 'health_check_request', 'request_id', 'r', w.bin('74797065'), 'x'), /string key/);
  });
});

describe('trailing optional / defaulted fields left out of the array form', () => {
  it('fills left-out Option fields with null', () => {
    expect(dec(control(w.uuid(A)))).toStrictEqual({
      type: 'control_command',
      request_id: 'r1',
      agent_id: A,
      command_type: 'pause',
      payload: null,
    });
    expect(dec(['list_agents_request', 'r'])).toStrictEqual({
      type: 'list_agents_request',
      request_id: 'r',
      filter_status: null,
      limit: null,
    });
    expect(dec(['health_check_response', 'r', true, '1.0.0'])).toStrictEqual({
      type: 'health_check_response',
      request_id: 'r',
      healthy: true,
      protocol_version: '1.0.0',
      uptime_secs: null,
      active_agents: null,
      metadata: null,
    });
  });

  it('fills every AgentConfig field with its default (environment {})', () => {
    const expected = {
      name: '',
      model_backend: '',
      task: '',
      context: null,
      system_prompt: null,
      environment: {},
      model: null,
      tool_level: null,
      agents: null,
    };
    expect((dec(['spawn_request', 'r', []]) as { config: unknown }).config).toStrictEqual(expected);
    expect((dec(['spawn_request', 'r', w.map()]) as { config: unknown }).config).toStrictEqual(expected);
    expect((dec(['spawn_request', 'r', ['n', 'b']]) as { config: unknown }).config).toStrictEqual({
      ...expected,
      name: 'n',
      model_backend: 'b',
    });
  });

  it('gives each decode its own default objects', () => {
    const a = dec(['spawn_request', 'r', []]) as { config: { environment: Record<string, string> } };
    a.config.environment.X = 'y';
    const b = dec(['spawn_request', 'r', []]) as { config: { environment: Record<string, string> } };
    expect(b.config.environment).toEqual({});
  });

  it('defaults list_agents_response.agents to []', () => {
    expect(dec(['list_agents_response', 'r', true])).toStrictEqual({
      type: 'list_agents_response',
      request_id: 'r',
      success: true,
      agents: [],
      error: null,
    });
    expect(dec(w.map('type', 'list_agents_response', 'request_id', 'r', 'success', false))).toMatchObject({
      agents: [],
    });
  });

  it('defaults batch_control_command.fail_fast to false', () => {
    expect(dec(['batch_control_command', 'r', [w.uuid(A)], 'stop'])).toStrictEqual({
      type: 'batch_control_command',
      request_id: 'r',
      agent_ids: [A],
      command_type: 'stop',
      payload: null,
      fail_fast: false,
    });
  });

  it('defaults output_query_response.lines to [] and has_more to false', () => {
    expect(dec(['output_query_response', 'r', w.uuid(A), true])).toStrictEqual({
      type: 'output_query_response',
      request_id: 'r',
      agent_id: A,
      success: true,
      lines: [],
      total_lines: null,
      has_more: false,
      error: null,
    });
  });

  it('fills AgentInfo optionals left out of its array', () => {
    const msg = dec(listResponse(agentInfo().slice(0, 6)));
    expect((msg as { agents: unknown[] }).agents[0]).toStrictEqual(INFO);
  });

  it('still requires a required field that follows optional ones (status_update.timestamp)', () => {
    rejects(
      ['status_update', w.uuid(B), 'heartbeat', null, null, null],
      /^status_update\.timestamp: missing required field/,
    );
    rejects(['status_update', w.uuid(B), 'heartbeat'], /^status_update\.timestamp: missing required field/);
  });

  it('rejects a missing required field in array form, naming it', () => {
    rejects(
      ['batch_control_response', 'r', true, [], 2],
      /^batch_control_response\.failed: missing required field/,
    );
    rejects(
      listResponse(agentInfo().slice(0, 5)),
      /^list_agents_response\.agents\[0\]\.task: missing required field/,
    );
    rejects(['spawn_request', 'r'], /^spawn_request\.config: missing required field/);
    rejects(['log_stream', w.uuid(A), 'stdout', [], T], /^log_stream\.sequence: missing required field/);
  });
});

describe('missing required field in map form', () => {
  it('rejects it, naming the field, at every level', () => {
    rejects(
      w.map('type', 'control_command', 'request_id', 'r', 'command_type', 'pause'),
      /^control_command\.agent_id: missing/,
    );
    rejects(
      w.map('type', 'health_check_request'),
      /^health_check_request\.request_id: missing required field/,
    );
    rejects(
      listResponse(w.map('id', w.uuid(A), 'name', 'n', 'status', 'idle', 'model_backend', 'm', 'task', '')),
      /^list_agents_response\.agents\[0\]\.started_at: missing required field/,
    );
  });

  it('rejects a message without a type', () => {
    rejects(w.map('request_id', 'r'), /missing field `type`/);
    rejects(w.map(), /missing field `type`/);
    rejects([], /missing field `type`/);
  });
});

describe('UUIDs as 16-byte bin or as text', () => {
  const forms: [string, string][] = [
    ['hyphenated', A],
    ['uppercase hyphenated', A.toUpperCase()],
    ['mixed case', '0F8fAd5b-D9cb-469F-a165-70867728950E'],
    ['32 hex digits', A.replace(/-/g, '')],
    ['32 uppercase hex digits', A.replace(/-/g, '').toUpperCase()],
    ['braced', `{${A}}`],
    ['braced uppercase', `{${A.toUpperCase()}}`],
    ['urn', `urn:uuid:${A}`],
    ['urn with uppercase digits', `urn:uuid:${A.toUpperCase()}`],
  ];
  it.each(forms)('accepts %s text and returns lowercase hyphenated', (_name, text) => {
    expect((dec(control(text)) as { agent_id: string }).agent_id).toBe(A);
  });

  it('accepts bin8 and bin16 markers holding 16 bytes', () => {
    expect((dec(control(w.uuid(A))) as { agent_id: string }).agent_id).toBe(A);
    expect((dec(control(w.raw(`c50010${A.replace(/-/g, '')}`))) as { agent_id: string }).agent_id).toBe(A);
    expect((dec(control(w.raw(`c600000010${A.replace(/-/g, '')}`))) as { agent_id: string }).agent_id).toBe(
      A,
    );
  });

  it('accepts text uuids in every uuid field', () => {
    const batch = dec(['batch_control_command', 'r', [A.toUpperCase(), w.uuid(B), `{${A}}`], 'kill']);
    expect((batch as { agent_ids: string[] }).agent_ids).toEqual([A, B, A]);
    const res = dec(['batch_control_response', 'r', true, [[`urn:uuid:${B}`, true]], 1, 0]);
    expect((res as { results: { agent_id: string }[] }).results[0]?.agent_id).toBe(B);
    const list = dec(listResponse(agentInfo({ 0: A.replace(/-/g, '') })));
    expect((list as { agents: { id: string }[] }).agents[0]?.id).toBe(A);
  });

  const bad: [string, Wire][] = [
    ['uppercase URN prefix', `URN:UUID:${A}`],
    ['braced simple form', `{${A.replace(/-/g, '')}}`],
    ['35 chars', A.slice(1)],
    ['37 chars', `${A}0`],
    ['a hyphen in the wrong place', '0f8fad5bd-9cb-469f-a165-70867728950e'],
    ['a non-hex digit', A.replace('a', 'g')],
    ['a non-ASCII char', A.replace('a', 'é').slice(0, 36)],
    ['the empty string', ''],
    ['an unbalanced brace', `{${A}`],
    ['urn prefix on the simple form', `urn:uuid:${A.replace(/-/g, '')}`],
  ];
  it.each(bad)('rejects text with %s', (_name, text) => {
    rejects(control(text), /^control_command\.agent_id: invalid uuid text/);
  });

  it.each([0, 15, 17, 36])('rejects a bin of %i bytes', (n) => {
    rejects(
      control(w.bin(new Uint8Array(n))),
      `control_command.agent_id: expected a 16-byte uuid, got ${n} bytes`,
    );
  });

  it('rejects other types (16 integers, an integer, nil, a map)', () => {
    rejects(
      control(Array.from({ length: 16 }, (_, i) => i)),
      /^control_command\.agent_id: expected a uuid .* got array/,
    );
    rejects(control(5), /got integer/);
    rejects(control(null), /^control_command\.agent_id: expected a uuid, got nil/);
    rejects(control(w.map()), /got map/);
  });

  it('rejects a bin uuid text (bin holding UTF-8 is a serde quirk we refuse)', () => {
    rejects(control(w.bin(new TextEncoder().encode(A))), /expected a 16-byte uuid, got 36 bytes/);
  });
});

describe('SystemTime as [secs, nanos] or {secs_since_epoch, nanos_since_epoch}', () => {
  const ts = (m: ZmqMessage) => (m as { timestamp: unknown }).timestamp;

  it('accepts both forms, keys in either order', () => {
    expect(ts(dec(heartbeat(T)))).toStrictEqual(TIME);
    expect(
      ts(dec(heartbeat(w.map('secs_since_epoch', T[0] as number, 'nanos_since_epoch', T[1] as number)))),
    ).toStrictEqual(TIME);
    expect(
      ts(dec(heartbeat(w.map('nanos_since_epoch', T[1] as number, 'secs_since_epoch', T[0] as number)))),
    ).toStrictEqual(TIME);
  });

  it('rejects unknown keys in the map form (unlike structs)', () => {
    rejects(
      heartbeat(w.map('secs_since_epoch', 1, 'nanos_since_epoch', 2, 'tz', 'UTC')),
      /^status_update\.timestamp\.tz: unknown field `tz`/,
    );
    rejects(heartbeat(w.map('secs', 1, 'nanos', 2)), /unknown field `secs`/);
  });

  it('rejects non-string keys, duplicate keys and missing keys', () => {
    rejects(heartbeat(w.map(0, 1, 1, 2)), /expected a SystemTime field name, got integer/);
    rejects(
      heartbeat(w.map('secs_since_epoch', 1, 'secs_since_epoch', 2, 'nanos_since_epoch', 0)),
      /duplicate field `secs_since_epoch`/,
    );
    rejects(
      heartbeat(w.map('secs_since_epoch', 1)),
      /^status_update\.timestamp\.nanos_since_epoch: missing required field/,
    );
    rejects(
      heartbeat(w.map('nanos_since_epoch', 1)),
      /^status_update\.timestamp\.secs_since_epoch: missing required field/,
    );
  });

  it('carries nanos of 1e9 or more into the seconds', () => {
    expect(ts(dec(heartbeat([10, 1_000_000_000])))).toStrictEqual({
      secs_since_epoch: 11,
      nanos_since_epoch: 0,
    });
    expect(ts(dec(heartbeat([10, 2_500_000_001])))).toStrictEqual({
      secs_since_epoch: 12,
      nanos_since_epoch: 500_000_001,
    });
    expect(ts(dec(heartbeat(w.map('nanos_since_epoch', 0xffffffff, 'secs_since_epoch', 0))))).toStrictEqual({
      secs_since_epoch: 4,
      nanos_since_epoch: 294_967_295,
    });
    expect(ts(dec(heartbeat([2 ** 53 - 1, 1_000_000_000])))).toStrictEqual({
      secs_since_epoch: 2n ** 53n,
      nanos_since_epoch: 0,
    });
  });

  it('re-encodes a carried time in normal form', () => {
    expect(toHex(encodeMessage(dec(heartbeat([10, 1_000_000_001]))))).toBe(toHex(mp(heartbeat([11, 1]))));
  });

  it('rejects nanos above u32::MAX', () => {
    rejects(
      heartbeat([1, 0x100000000]),
      /^status_update\.timestamp\.nanos_since_epoch: nanoseconds 4294967296 out of range/,
    );
  });

  it('accepts seconds up to i64::MAX and rejects later times (Rust SystemTime on Unix)', () => {
    const max = 2n ** 63n - 1n;
    expect(ts(dec(heartbeat([max, 999_999_999])))).toStrictEqual({
      secs_since_epoch: max,
      nanos_since_epoch: 999_999_999,
    });
    rejects(heartbeat([max, 1_000_000_000]), /SystemTime out of range/);
    rejects(
      heartbeat([2n ** 63n, 0]),
      /^status_update\.timestamp\.secs_since_epoch: SystemTime out of range/,
    );
    rejects(heartbeat([2n ** 64n - 1n, 0]), /SystemTime out of range/);
  });

  it('rejects other array lengths', () => {
    rejects(heartbeat([1]), /got an array of 1 elements/);
    rejects(heartbeat([]), /got an array of 0 elements/);
    rejects(heartbeat([1, 2, 3]), /got an array of 3 elements/);
  });

  it('rejects negative, float and non-integer parts', () => {
    rejects(
      heartbeat([-1, 0]),
      /^status_update\.timestamp\.secs_since_epoch: expected an unsigned integer, got -1/,
    );
    rejects(heartbeat([w.f64(1.5), 0]), /secs_since_epoch: expected an unsigned integer, got float/);
    rejects(heartbeat([w.f64(2), 0]), /got float/);
    rejects(heartbeat([1, w.f32(0)]), /nanos_since_epoch: expected an unsigned integer, got float/);
    rejects(heartbeat([1, '0']), /got string/);
  });

  it('rejects a msgpack timestamp ext (what a JS Date becomes) in every width, and a float time', () => {
    rejects(heartbeat(w.ext(-1, '69248100')), /^status_update\.timestamp: .*got a msgpack timestamp ext/);
    rejects(heartbeat(w.ext(-1, '1d53530069248100')), /timestamp ext/);
    rejects(heartbeat(w.ext(-1, '000000000000000069248100')), /timestamp ext/);
    rejects(heartbeat(w.ext(5, '00')), /got an ext value/);
    rejects(heartbeat(w.f64(1764000000.5)), /got float/);
    rejects(heartbeat(1764000000), /got integer/);
    rejects(heartbeat(null), /^status_update\.timestamp: expected a SystemTime, got nil/);
  });

  it('accepts non-negative values in signed or wider int encodings', () => {
    expect(ts(dec(heartbeat([w.int(5, 0xd0), w.int(7, 0xcf)])))).toStrictEqual({
      secs_since_epoch: 5,
      nanos_since_epoch: 7,
    });
  });
});

describe('rejects an unknown tag', () => {
  it('names it and lists the known ones', () => {
    const err = rejects(['reboot_request', 'r'], /^message\.type: unknown message type `reboot_request`/);
    expect(err.messageType).toBeNull();
    expect(err.path).toBe('type');
    rejects(w.map('type', 'Health_Check_Request', 'request_id', 'r'), /unknown message type/);
  });

  it('rejects integer, bin and nil tags (a stray integer must not become a command)', () => {
    rejects(
      [2, 'r1', w.uuid(A), 'kill'],
      /^message\.type: expected the message type as a string, got integer/,
    );
    rejects(w.map('type', 7, 'request_id', 'r'), /expected the message type as a string, got integer/);
    rejects([w.bin(new TextEncoder().encode('health_check_request')), 'r'], /got bin/);
    rejects([null, 'r'], /got nil/);
  });
});

describe('rejects extra array elements', () => {
  it('at the message level and in nested structs', () => {
    rejects(['health_check_request', 'r', 'extra'], /^health_check_request: too many elements/);
    rejects([...(control(w.uuid(A)) as Wire[]), null, null], /^control_command: too many elements/);
    rejects(
      listResponse([...agentInfo(), null]),
      /^list_agents_response\.agents\[0\]: too many elements for AgentInfo/,
    );
    rejects(
      ['batch_control_response', 'r', true, [[w.uuid(A), true, null, null, 'x']], 1, 0],
      /results\[0\]: too many/,
    );
    rejects(
      ['spawn_request', 'r', ['', '', '', null, null, w.map(), null, null, null, 1]],
      /^spawn_request\.config: too many/,
    );
  });
});

describe('rejects nil for a non-Option field', () => {
  const cases: [string, Wire, RegExp][] = [
    ['str', ['health_check_request', null], /^health_check_request\.request_id: expected a string, got nil/],
    ['bool', ['spawn_response', 'r', null], /^spawn_response\.success: expected a bool, got nil/],
    ['uuid', control(null), /^control_command\.agent_id: expected a uuid, got nil/],
    [
      'enum',
      ['control_command', 'r', w.uuid(A), null],
      /^control_command\.command_type: expected an enum name, got nil/,
    ],
    ['time', heartbeat(null), /^status_update\.timestamp: expected a SystemTime, got nil/],
    [
      'u64',
      ['batch_control_response', 'r', true, [], null, 0],
      /^batch_control_response\.successful: expected an unsigned integer, got nil/,
    ],
    [
      'defaulted Vec (agents)',
      ['list_agents_response', 'r', true, null],
      /^list_agents_response\.agents: expected an array, got nil/,
    ],
    [
      'defaulted bool (fail_fast)',
      ['batch_control_command', 'r', [], 'stop', null, null],
      /fail_fast: expected a bool, got nil/,
    ],
    [
      'defaulted map (environment)',
      ['spawn_request', 'r', ['', '', '', null, null, null]],
      /^spawn_request\.config\.environment: expected a map of strings, got nil/,
    ],
    [
      'defaulted str (AgentConfig.name)',
      ['spawn_request', 'r', [null]],
      /^spawn_request\.config\.name: expected a string, got nil/,
    ],
    ['struct (config)', ['spawn_request', 'r', null], /^spawn_request\.config: expected a struct, got nil/],
    [
      'Vec<u8> (data)',
      ['log_stream', w.uuid(A), 'stdout', null, T, 1],
      /^log_stream\.data: expected an array of bytes, got nil/,
    ],
    [
      'Vec element',
      ['output_query_response', 'r', w.uuid(A), true, ['a', null]],
      /^output_query_response\.lines\[1\]: expected a string, got nil/,
    ],
    [
      'HashMap value',
      ['health_check_response', 'r', true, '1', null, null, w.map('k', null)],
      /^health_check_response\.metadata\.k: expected a string, got nil/,
    ],
    [
      'i64',
      listResponse(agentInfo({ 8: ['u', 't', null] })),
      /^list_agents_response\.agents\[0\]\.attach_info\.expires_at: expected an integer, got nil/,
    ],
    [
      'map-form field',
      w.map('type', 'spawn_response', 'request_id', 'r', 'success', null),
      /^spawn_response\.success: expected a bool, got nil/,
    ],
  ];
  it.each(cases)('%s', (_name, v, message) => {
    rejects(v, message);
  });

  it('accepts nil in Option fields and in JSON values', () => {
    expect(dec(['custom_action_request', 'r', w.uuid(A), 'a', null, null])).toMatchObject({
      params: null,
      timeout_secs: null,
    });
    const spawn = dec([
      'spawn_request',
      'r',
      ['', '', '', null, null, w.map(), null, null, w.map('a', null)],
    ]);
    expect((spawn as { config: { agents: unknown } }).config.agents).toStrictEqual({ a: null });
  });
});

describe('rejects a negative or float value in an unsigned field', () => {
  const timeout = (v: Wire): Wire => ['spawn_request', 'r', [], v];
  it.each([
    ['negative fixint', -1, /^spawn_request\.timeout_secs: expected an unsigned integer, got -1/],
    ['int8', w.int(-100, 0xd0), /got -100/],
    ['int64', w.int(-(2n ** 63n), 0xd3), /got -9223372036854775808/],
    ['float64 fraction', w.f64(1.5), /got float/],
    ['whole float64', w.f64(3), /got float/],
    ['float32', w.f32(3), /got float/],
    ['string', '3', /got string/],
    ['bool', true, /got bool/],
  ] as [string, Wire, RegExp][])('%s', (_name, v, message) => {
    rejects(timeout(v), message);
  });

  it('accepts a non-negative value in any int encoding, signed ones included', () => {
    for (const v of [w.int(5, 0xd0), w.int(5, 0xd3), w.int(5, 0xcf), w.int(5, 0xcd)]) {
      expect((dec(timeout(v)) as { timeout_secs: unknown }).timeout_secs).toBe(5);
    }
  });

  it('returns u64 values above 2^53 - 1 as bigint, up to u64::MAX', () => {
    expect((dec(timeout(2 ** 53 - 1)) as { timeout_secs: unknown }).timeout_secs).toBe(2 ** 53 - 1);
    expect((dec(timeout(2n ** 53n)) as { timeout_secs: unknown }).timeout_secs).toBe(2n ** 53n);
    expect((dec(timeout(2n ** 64n - 1n)) as { timeout_secs: unknown }).timeout_secs).toBe(2n ** 64n - 1n);
  });

  it('checks every unsigned field: usize counts, sequence, LogStream bytes', () => {
    rejects(
      ['list_agents_request', 'r', null, -3],
      /^list_agents_request\.limit: expected an unsigned integer, got -3/,
    );
    rejects(
      ['batch_control_response', 'r', true, [], 1, w.f64(0.5)],
      /^batch_control_response\.failed: .*got float/,
    );
    rejects(
      ['log_stream', w.uuid(A), 'stdout', [], T, -1],
      /^log_stream\.sequence: expected an unsigned integer/,
    );
    rejects(
      ['log_stream', w.uuid(A), 'stdout', [1, -1], T, 1],
      /^log_stream\.data\[1\]: expected an unsigned integer, got -1/,
    );
    rejects(
      ['log_stream', w.uuid(A), 'stdout', [1, 256], T, 1],
      /^log_stream\.data\[1\]: byte value 256 out of range for u8/,
    );
    rejects(['log_stream', w.uuid(A), 'stdout', [w.f64(1)], T, 1], /^log_stream\.data\[0\]: .*got float/);
  });

  it('accepts i64 (AttachInfo.expires_at) from -2^63 to 2^63 - 1 and rejects above', () => {
    const exp = (v: Wire) =>
      (
        dec(listResponse(agentInfo({ 8: ['u', 't', v] }))) as {
          agents: { attach_info: { expires_at: unknown } }[];
        }
      ).agents[0]?.attach_info.expires_at;
    expect(exp(-(2n ** 63n))).toBe(-(2n ** 63n));
    expect(exp(2n ** 63n - 1n)).toBe(2n ** 63n - 1n);
    expect(exp(-1)).toBe(-1);
    expect(exp(-(2 ** 53) + 1)).toBe(-(2 ** 53) + 1);
    expect(exp(-(2n ** 53n))).toBe(-(2n ** 53n));
    rejects(
      listResponse(agentInfo({ 8: ['u', 't', 2n ** 63n] })),
      /expires_at: integer 9223372036854775808 out of range for i64/,
    );
    rejects(
      listResponse(agentInfo({ 8: ['u', 't', w.f64(1)] })),
      /expires_at: expected an integer, got float/,
    );
  });
});

describe('rejects an ext value anywhere', () => {
  const ext = w.ext(1, '00');
  it.each([
    ['at the top level', ext, /^message: expected a message .*got an ext value/],
    [
      'in a str field',
      ['health_check_request', ext],
      /^health_check_request\.request_id: expected a string, got an ext value/,
    ],
    [
      'in a JSON payload',
      control(w.uuid(A), [ext]),
      /^control_command\.payload: an ext value is not allowed in a JSON value/,
    ],
    [
      'deep in a JSON payload',
      control(w.uuid(A), [w.map('a', [1, ext])]),
      /^control_command\.payload\.a\[1\]: an ext value is not allowed/,
    ],
    [
      'as a JSON key',
      control(w.uuid(A), [w.map(ext, 1)]),
      /JSON object keys must be strings, got an ext value/,
    ],
    [
      'in an unknown map-form field',
      w.map('type', 'health_check_request', 'request_id', 'r', 'extra', [ext]),
      /^health_check_request\.extra: an ext value is not allowed/,
    ],
    [
      'in LogStream.data',
      ['log_stream', w.uuid(A), 'stdout', [ext], T, 1],
      /^log_stream\.data\[0\]: expected an unsigned integer, got an ext value/,
    ],
    [
      'in a u64 field',
      ['spawn_request', 'r', [], ext],
      /timeout_secs: expected an unsigned integer, got an ext value/,
    ],
    ['as a uuid', control(ext), /agent_id: .*got an ext value/],
    [
      'as a HashMap value',
      ['health_check_response', 'r', true, '1', null, null, w.map('k', ext)],
      /metadata\.k: expected a string, got an ext value/,
    ],
  ] as [string, Wire, RegExp][])('%s', (_name, v, message) => {
    rejects(v, message);
  });
});

describe('rejects bin in LogStream.data', () => {
  it('in array and map form', () => {
    rejects(
      ['log_stream', w.uuid(A), 'stdout', w.bin('00ff'), T, 1],
      /^log_stream\.data: expected an array of bytes, got bin/,
    );
    rejects(
      w.map(
        'type',
        'log_stream',
        'agent_id',
        w.uuid(A),
        'stream_type',
        'stdout',
        'data',
        w.bin('00'),
        'timestamp',
        T,
        'sequence',
        1,
      ),
      /got bin/,
    );
  });

  it('accepts bytes in any uint encoding and returns a Uint8Array', () => {
    const msg = dec([
      'log_stream',
      w.uuid(A),
      'stdout',
      [0, 127, w.int(128, 0xcc), w.int(255, 0xcd), w.int(7, 0xd0)],
      T,
      1,
    ]);
    expect((msg as { data: unknown }).data).toStrictEqual(Uint8Array.from([0, 127, 128, 255, 7]));
  });
});

describe('rejects duplicate keys in a map-form struct, a repeated `type` too', () => {
  it('repeated field', () => {
    rejects(
      w.map('type', 'health_check_request', 'request_id', 'a', 'request_id', 'b'),
      /^health_check_request\.request_id: duplicate field `request_id`/,
    );
  });

  it('repeated field with nil first (still a duplicate)', () => {
    rejects(
      w.map('type', 'spawn_response', 'request_id', 'a', 'success', true, 'error', null, 'error', 'x'),
      /duplicate field `error`/,
    );
  });

  it('repeated type, first and later', () => {
    rejects(
      w.map('type', 'health_check_request', 'request_id', 'a', 'type', 'health_check_request'),
      /^health_check_request\.type: duplicate field `type`/,
    );
    rejects(
      w.map('request_id', 'a', 'type', 'health_check_request', 'type', 'control_command'),
      /duplicate field `type`/,
    );
    rejects(
      w.map('type', 'health_check_request', 'type', 'health_check_request', 'request_id', 'a'),
      /duplicate field `type`/,
    );
  });

  it('in a nested struct', () => {
    rejects(
      listResponse(w.map('id', w.uuid(A), 'id', w.uuid(B))),
      /^list_agents_response\.agents\[0\]\.id: duplicate field `id`/,
    );
  });

  it('keeps the last value for a repeated key in a HashMap or JSON object (as serde does)', () => {
    const health = dec(['health_check_response', 'r', true, '1', null, null, w.map('k', 'a', 'k', 'b')]);
    expect((health as { metadata: unknown }).metadata).toStrictEqual({ k: 'b' });
    const cmd = dec(control(w.uuid(A), [w.map('x', 1, 'y', 2, 'x', 3)]));
    expect((cmd as { payload: unknown }).payload).toStrictEqual({ x: 3, y: 2 });
  });
});

describe('rejects a str that is not valid UTF-8', () => {
  const invalid = [
    ['lone continuation byte', '80'],
    ['overlong encoding', 'c0af'],
    ['truncated sequence', 'e282'],
    ['UTF-16 surrogate', 'eda080'],
    ['above U+10FFFF', 'f4908080'],
    ['0xff byte', '61ff62'],
  ];
  it.each(invalid)('%s in a str field', (_name, hex) => {
    rejects(
      ['health_check_request', w.strBytes(hex)],
      /^health_check_request\.request_id: string is not valid UTF-8/,
    );
  });

  it('in a long str (TextDecoder path)', () => {
    const bytes = new Uint8Array(300).fill(0x61);
    bytes[250] = 0xff;
    rejects(['health_check_request', w.strBytes(bytes)], /string is not valid UTF-8/);
  });

  it.each([
    [
      'a JSON string',
      control(w.uuid(A), [w.map('k', w.strBytes('ff'))]),
      /^control_command\.payload\.k: string is not valid UTF-8/,
    ],
    ['a JSON key', control(w.uuid(A), [w.map(w.strBytes('ff'), 1)]), /string is not valid UTF-8/],
    [
      'a HashMap key',
      ['health_check_response', 'r', true, '1', null, null, w.map(w.strBytes('c3'), 'v')],
      /string is not valid UTF-8/,
    ],
    [
      'an unknown field name',
      w.map('type', 'health_check_request', 'request_id', 'r', w.strBytes('ff'), 1),
      /string is not valid UTF-8/,
    ],
    [
      'an unknown field value',
      w.map('type', 'health_check_request', 'request_id', 'r', 'x', [w.strBytes('ff')]),
      /^health_check_request\.x: string is not valid UTF-8/,
    ],
    [
      'an enum',
      ['control_command', 'r', w.uuid(A), w.strBytes('ff')],
      /command_type: string is not valid UTF-8/,
    ],
    ['the tag', [w.strBytes('ff'), 'r'], /^message\.type: string is not valid UTF-8/],
    ['uuid text', control(w.strBytes(new Uint8Array(16).fill(0xff))), /agent_id: string is not valid UTF-8/],
  ] as [string, Wire, RegExp][])('in %s', (_name, v, message) => {
    rejects(v, message);
  });

  it('accepts valid multi-byte text and keeps a leading BOM', () => {
    const s = '\ufeffé日🚀';
    expect((dec(['health_check_request', s]) as { request_id: string }).request_id).toBe(s);
    const long = `\ufeff${'x'.repeat(100)}é`;
    expect((dec(['health_check_request', long]) as { request_id: string }).request_id).toBe(long);
  });
});

describe('inside JSON values: rejects bin, ext and non-string map keys', () => {
  it.each([
    [
      'bin value',
      control(w.uuid(A), [w.bin('00')]),
      /^control_command\.payload: bin is not allowed in a JSON value/,
    ],
    [
      'bin nested',
      control(w.uuid(A), [[1, w.map('b', w.bin('00'))]]),
      /^control_command\.payload\[1\]\.b: bin is not allowed/,
    ],
    ['ext value', control(w.uuid(A), [w.ext(-1, '00000000')]), /is not allowed in a JSON value/],
    [
      'integer key',
      control(w.uuid(A), [w.map(1, 'a')]),
      /^control_command\.payload: JSON object keys must be strings, got integer/,
    ],
    ['bin key', control(w.uuid(A), [w.map(w.bin('6b'), 'a')]), /JSON object keys must be strings, got bin/],
    ['nil key', control(w.uuid(A), [w.map(null, 'a')]), /got nil/],
    ['array key', control(w.uuid(A), [w.map([], 'a')]), /got array/],
    [
      'in AgentConfig.agents',
      ['spawn_request', 'r', ['', '', '', null, null, w.map(), null, null, w.map('p', w.bin('00'))]],
      /^spawn_request\.config\.agents\.p: bin is not allowed/,
    ],
  ] as [string, Wire, RegExp][])('%s', (_name, v, message) => {
    rejects(v, message);
  });

  it('decodes every JSON value type', () => {
    const payload = w.map(
      'a',
      [null, true, false, 0, -1, 127, -32, -33, 255, 65536, w.f32(0.5), w.f64(-2.25), 'x', [], w.map()],
      'big',
      [2n ** 64n - 1n, -(2n ** 63n), 2n ** 53n, 2 ** 53 - 1],
    );
    expect((dec(control(w.uuid(A), [payload])) as { payload: unknown }).payload).toStrictEqual({
      a: [null, true, false, 0, -1, 127, -32, -33, 255, 65536, 0.5, -2.25, 'x', [], {}],
      big: [2n ** 64n - 1n, -(2n ** 63n), 2n ** 53n, 2 ** 53 - 1],
    });
  });

  it('turns NaN and infinite floats into null (serde_json has no such numbers)', () => {
    const msg = dec(control(w.uuid(A), [[w.f64(NaN), w.f64(Infinity), w.f32(-Infinity)]]));
    expect((msg as { payload: unknown }).payload).toStrictEqual([null, null, null]);
  });

  it('makes `__proto__` an own key, never the prototype', () => {
    const msg = dec(control(w.uuid(A), [w.map('__proto__', w.map('polluted', true))]));
    const payload = (msg as { payload: Record<string, unknown> }).payload;
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.keys(payload)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = dec(['health_check_response', 'r', true, '1', null, null, w.map('__proto__', 'x')]);
    expect(Object.keys((health as { metadata: object }).metadata)).toEqual(['__proto__']);
  });
});

describe('unit enums as lowercase names', () => {
  it('accepts every name of every enum', () => {
    for (const c of CONTROL_COMMAND_TYPES) {
      expect((dec(['control_command', 'r', w.uuid(A), c]) as { command_type: string }).command_type).toBe(c);
    }
    for (const s of AGENT_STATUSES) {
      expect((dec(['list_agents_request', 'r', s]) as { filter_status: string }).filter_status).toBe(s);
    }
    for (const u of STATUS_UPDATE_TYPES) {
      expect(
        (dec(['status_update', w.uuid(A), u, null, null, null, T]) as { update_type: string }).update_type,
      ).toBe(u);
    }
    for (const s of OUTPUT_STREAMS) {
      expect((dec(['output_query_request', 'r', w.uuid(A), s]) as { stream: string }).stream).toBe(s);
    }
    rejects(['log_stream', w.uuid(A), 'both', [], T, 1], /^log_stream\.stream_type: unknown variant `both`/);
    rejects(listResponse(agentInfo({ 7: 'Forced' })), /pause_mode: unknown variant `Forced`/);
  });

  it('rejects other cases, integers and the {"pause": nil} map form', () => {
    rejects(['control_command', 'r', w.uuid(A), 'PAUSE'], /unknown variant `PAUSE`/);
    rejects(
      ['control_command', 'r', w.uuid(A), 0],
      /command_type: expected one of .* as a string, got integer/,
    );
    rejects(['control_command', 'r', w.uuid(A), w.map('pause', null)], /got map/);
  });
});

describe('framing', () => {
  it('ignores trailing bytes after the message', () => {
    const bytes = mp(['health_check_request', 'r']);
    const withGarbage = new Uint8Array([...bytes, 0xc1, 0xff, 0x00, 0xdd]);
    expect(decodeMessage(withGarbage)).toStrictEqual({ type: 'health_check_request', request_id: 'r' });
  });

  it('rejects empty input and non-message top-level values', () => {
    rejects(new Uint8Array(0), /^message: unexpected end of input/);
    rejects('health_check_request', /^message: expected a message \(an array or a map\), got string/);
    rejects(null, /got nil/);
    rejects(w.raw('c1'), /got the reserved marker 0xc1/);
  });

  it('rejects the reserved marker 0xc1 inside values', () => {
    rejects(control(w.uuid(A), [w.raw('c1')]), /invalid marker 0xc1/);
    rejects(
      w.map('type', 'health_check_request', 'request_id', 'r', 'x', w.raw('c1')),
      /invalid marker 0xc1/,
    );
  });

  it('rejects input that is not a Uint8Array', () => {
    expect(() => decodeMessage('92' as unknown as Uint8Array)).toThrow(ProtocolError);
    expect(() => decodeMessage([0x92] as unknown as Uint8Array)).toThrow(
      /expected the message bytes as a Uint8Array/,
    );
  });

  it('reads from a Buffer or a view at any offset (floats included)', () => {
    const bytes = mp(control(w.uuid(A), [w.map('f', w.f64(0.25), 'g', w.f32(1.5))]));
    const expected = {
      type: 'control_command',
      request_id: 'r1',
      agent_id: A,
      command_type: 'pause',
      payload: { f: 0.25, g: 1.5 },
    };
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 7);
    expect(decodeMessage(padded.subarray(7))).toStrictEqual(expected);
    const pooled = Buffer.from(toHex(bytes), 'hex');
    expect(decodeMessage(pooled)).toStrictEqual(expected);
  });
});

describe('hostile length prefixes fail fast as truncated, without allocating', () => {
  it.each([
    ['array32 of 4 billion elements', 'ddfffffff0'],
    ['map32 of 4 billion entries', 'dffffffff0'],
    [
      'array32 inside a payload',
      `95af${toHex(new TextEncoder().encode('control_command'))}a172c410${A.replace(/-/g, '')}a57061757365ddffffffff`,
    ],
    ['str32 of 4 GB', `92b4${toHex(new TextEncoder().encode('health_check_request'))}dbffffffff`],
    ['bin32 of 4 GB as a uuid', `94af${toHex(new TextEncoder().encode('control_command'))}a172c6ffffffff`],
    [
      'array16 of lines',
      `95b5${toHex(new TextEncoder().encode('output_query_response'))}a172c410${A.replace(/-/g, '')}c3dcffff`,
    ],
  ])('%s', (_name, hex) => {
    // The claim is refused from the bytes left, before anything is allocated for it (a decoder
    // that trusted it would fail with a RangeError or run out of memory instead).
    rejects(fromHex(hex), /unexpected end of input|expected a 16-byte uuid, got 4294967295 bytes/);
  });
});

describe('nesting limit (rmp_serde: at most 1023 nested arrays/maps)', () => {
  const nested = (depth: number): Wire => {
    let v: Wire = 0;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  it('accepts a payload nested 1022 deep (1023 with the message) and rejects one level more', () => {
    expect(() => dec(control(w.uuid(A), [nested(1022)]))).not.toThrow();
    rejects(control(w.uuid(A), [nested(1023)]), /nesting deeper than 1023/);
  });

  it('rejects 100 000 nested arrays without overflowing the stack', () => {
    const bytes = new Uint8Array(100_000 + 50);
    const head = mp(['control_command', 'r', w.uuid(A), 'pause']);
    bytes.set(head);
    bytes[0] = 0x95;
    bytes.fill(0x91, head.length);
    rejects(bytes, /nesting deeper than 1023/);
  });

  it('applies to skipped unknown fields too', () => {
    rejects(w.map('type', 'health_check_request', 'request_id', 'r', 'x', nested(1100)), /nesting deeper/);
  });
});

describe('10 MiB limit on decode', () => {
  it('rejects input longer than MAX_MESSAGE_BYTES with code too_large, before parsing', () => {
    const bytes = new Uint8Array(MAX_MESSAGE_BYTES + 1);
    bytes.set(mp(['health_check_request', 'r']));
    let caught: unknown;
    try {
      decodeMessage(bytes);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as ProtocolError).code).toBe('too_large');
    expect((caught as ProtocolError).message).toMatch(/10485761 bytes exceeds the 10485760-byte limit/);
  });

  it('accepts input of exactly MAX_MESSAGE_BYTES', () => {
    const bytes = new Uint8Array(MAX_MESSAGE_BYTES);
    bytes.set(mp(['health_check_request', 'r']));
    expect(decodeMessage(bytes)).toStrictEqual({ type: 'health_check_request', request_id: 'r' });
  });
});

describe('str and int encodings the Rust decoder accepts although rmp never writes them', () => {
  it('accepts str8/str16/str32 headers for short strings', () => {
    for (const m of [0xd9, 0xda, 0xdb] as const) {
      expect(dec([w.strAs(m, 'health_check_request'), w.strAs(m, 'r')])).toStrictEqual({
        type: 'health_check_request',
        request_id: 'r',
      });
    }
  });

  it('accepts array16/array32 and map16/map32 headers', () => {
    expect(decodeMessage(fromHex(`dc0002${toHex(mp('health_check_request'))}a172`))).toMatchObject({
      request_id: 'r',
    });
    expect(decodeMessage(fromHex(`dd00000002${toHex(mp('health_check_request'))}a172`))).toMatchObject({
      request_id: 'r',
    });
    const entries = `${toHex(mp('type'))}${toHex(mp('health_check_request'))}${toHex(mp('request_id'))}a172`;
    expect(decodeMessage(fromHex(`de0002${entries}`))).toMatchObject({ request_id: 'r' });
    expect(decodeMessage(fromHex(`df00000002${entries}`))).toMatchObject({ request_id: 'r' });
  });
});

describe('errors name the message type and the field path', () => {
  it('nested: list_agents_response.agents[1].started_at.nanos_since_epoch', () => {
    const err = rejects(listResponse(agentInfo(), agentInfo({ 4: [1, w.f64(0.5)] })));
    expect(err.message).toBe(
      'list_agents_response.agents[1].started_at.nanos_since_epoch: expected an unsigned integer, got float',
    );
    expect(err.messageType).toBe('list_agents_response');
    expect(err.path).toBe('agents[1].started_at.nanos_since_epoch');
    expect(err.reason).toBe('expected an unsigned integer, got float');
    expect(err.name).toBe('ProtocolError');
    expect(err).toBeInstanceOf(Error);
  });

  it('quotes JSON keys that are not identifiers', () => {
    const err = rejects(control(w.uuid(A), [w.map('a b', [w.bin('00')])]));
    expect(err.path).toBe('payload["a b"][0]');
  });

  it('does not leak state from a failed decode into the next one', () => {
    rejects(listResponse(agentInfo({ 4: [1, w.f64(0.5)] })));
    const err = rejects(['health_check_request', 5]);
    expect(err.message).toBe('health_check_request.request_id: expected a string, got integer');
    expect(dec(listResponse(agentInfo()))).toMatchObject({ agents: [INFO] });
  });
});
