/**
 * fast-check arbitraries for every descartes 1.0.0 message, plus `normalize`, which turns a valid
 * input message into what decodeMessage returns for it (absent optionals → null, absent defaulted
 * fields → their default, integers in canonical number/bigint form, LogStream.data → Uint8Array).
 */
import fc from 'fast-check';
import type { ZmqMessage } from '../../../../shared/protocol';
import {
  AGENT_INFO,
  K_ARRAY,
  K_BYTES,
  K_I64,
  K_JSON,
  K_JSON_MAP,
  K_STRUCT,
  K_TIME,
  K_U64,
  K_UUID,
  defaultOf,
  type Field,
  type StructSchema,
} from '../../../../shared/protocol/codec/schema';
import { MESSAGE_BY_TAG } from './messageByTag';
import { setOwn } from '../../../../shared/protocol/codec/decode';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Short and long text: any code point (no lone surrogates), ASCII, and strings past the 40-byte JS path. */
export const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 80 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 10, maxLength: 60 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 30, maxLength: 300 }), weight: 1 },
);

export const uuid = fc.uuid().map((u) => u.toLowerCase());

const boundaries = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, MAX_SAFE];

/** u64 in canonical form: a number when safe, else a bigint. */
export const u64 = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.integer({ min: 0, max: MAX_SAFE }),
  fc.constantFrom(...boundaries),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
  fc.constantFrom(2n ** 53n, 2n ** 64n - 1n, 2n ** 63n),
);

/** i64 in canonical form. */
export const i64 = fc.oneof(
  fc.integer({ min: -MAX_SAFE, max: MAX_SAFE }),
  fc.constantFrom(...boundaries, ...boundaries.map((b) => -b - 1), -32, -33),
  fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }),
);

export const systemTime = fc.record({
  secs_since_epoch: fc.oneof(
    fc.integer({ min: 0, max: 4_102_444_800 }),
    fc.integer({ min: 0, max: MAX_SAFE }),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }),
  ),
  nanos_since_epoch: fc.integer({ min: 0, max: 999_999_999 }),
});

const jsonNumber = fc.oneof(
  fc.integer({ min: -MAX_SAFE, max: MAX_SAFE }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.5, -0, 1e-300, 1e20, -1e300, 2 ** 60, -(2 ** 63), 2 ** 64),
  fc
    .bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })
    .filter((b) => b > BigInt(MAX_SAFE) || b < -BigInt(MAX_SAFE)),
);

const jsonKey = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 8 }), weight: 5 },
  { arbitrary: fc.constantFrom('__proto__', '10', '9', 'constructor', '\uffff', '\u{10000}'), weight: 1 },
);

export const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    jsonNumber,
    text,
    fc.array(tie('json'), { maxLength: 5 }),
    fc.dictionary(jsonKey, tie('json'), { maxKeys: 5 }),
  ),
}));

export const jsonObject = fc.dictionary(jsonKey, json, { maxKeys: 5 });
export const stringMap = fc.dictionary(jsonKey, text, { maxKeys: 6 });

/** An Option field: null, or left out (fc.record requiredKeys), or a value. */
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 3 });

function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: (keyof T)[]) {
  return fc.record(model, { requiredKeys: required });
}

/** Any name of the enum in field `field` of a struct or message, as the codec's schema lists them. */
function enumOf(struct: StructSchema | ZmqMessage['type'], field: string): fc.Arbitrary<string> {
  const s = typeof struct === 'string' ? MESSAGE_BY_TAG.get(struct)?.struct : struct;
  const table = s?.fields.find((f) => f.name === field)?.enumTable;
  if (table == null) throw new Error(`no enum field ${field} in ${String(s?.name)}`);
  return fc.constantFrom(...table.names);
}

const agentStatus = enumOf(AGENT_INFO, 'status');
const commandType = enumOf('control_command', 'command_type');

export const agentConfig = record(
  {
    name: text,
    model_backend: text,
    task: text,
    context: opt(text),
    system_prompt: opt(text),
    environment: stringMap,
    model: opt(text),
    tool_level: opt(text),
    agents: opt(jsonObject),
  },
  [],
);

export const agentInfo = record(
  {
    id: uuid,
    name: text,
    status: agentStatus,
    model_backend: text,
    started_at: systemTime,
    task: text,
    paused_at: opt(systemTime),
    pause_mode: opt(enumOf(AGENT_INFO, 'pause_mode')),
    attach_info: opt(fc.record({ connect_url: text, token: text, expires_at: i64 })),
  },
  ['id', 'name', 'status', 'model_backend', 'started_at', 'task'],
);

const batchAgentResult = record(
  { agent_id: uuid, success: fc.boolean(), status: opt(agentStatus), error: opt(text) },
  ['agent_id', 'success'],
);

const tag = <T extends string>(t: T) => fc.constant(t);

export const messages: Record<ZmqMessage['type'], fc.Arbitrary<Record<string, unknown>>> = {
  spawn_request: record(
    {
      type: tag('spawn_request'),
      request_id: text,
      config: agentConfig,
      timeout_secs: opt(u64),
      metadata: opt(stringMap),
    },
    ['type', 'request_id', 'config'],
  ),
  spawn_response: record(
    {
      type: tag('spawn_response'),
      request_id: text,
      success: fc.boolean(),
      agent_info: opt(agentInfo),
      error: opt(text),
      server_id: opt(text),
    },
    ['type', 'request_id', 'success'],
  ),
  control_command: record(
    {
      type: tag('control_command'),
      request_id: text,
      agent_id: uuid,
      command_type: commandType,
      payload: opt(json),
    },
    ['type', 'request_id', 'agent_id', 'command_type'],
  ),
  command_response: record(
    {
      type: tag('command_response'),
      request_id: text,
      agent_id: uuid,
      success: fc.boolean(),
      status: opt(agentStatus),
      data: opt(json),
      error: opt(text),
    },
    ['type', 'request_id', 'agent_id', 'success'],
  ),
  status_update: record(
    {
      type: tag('status_update'),
      agent_id: uuid,
      update_type: enumOf('status_update', 'update_type'),
      status: opt(agentStatus),
      message: opt(text),
      data: opt(json),
      timestamp: systemTime,
    },
    ['type', 'agent_id', 'update_type', 'timestamp'],
  ),
  list_agents_request: record(
    { type: tag('list_agents_request'), request_id: text, filter_status: opt(agentStatus), limit: opt(u64) },
    ['type', 'request_id'],
  ),
  list_agents_response: record(
    {
      type: tag('list_agents_response'),
      request_id: text,
      success: fc.boolean(),
      agents: fc.array(agentInfo, { maxLength: 4 }),
      error: opt(text),
    },
    ['type', 'request_id', 'success'],
  ),
  health_check_request: fc.record({ type: tag('health_check_request'), request_id: text }),
  health_check_response: record(
    {
      type: tag('health_check_response'),
      request_id: text,
      healthy: fc.boolean(),
      protocol_version: text,
      uptime_secs: opt(u64),
      active_agents: opt(u64),
      metadata: opt(stringMap),
    },
    ['type', 'request_id', 'healthy', 'protocol_version'],
  ),
  custom_action_request: record(
    {
      type: tag('custom_action_request'),
      request_id: text,
      agent_id: uuid,
      action: text,
      params: opt(json),
      timeout_secs: opt(u64),
    },
    ['type', 'request_id', 'agent_id', 'action'],
  ),
  batch_control_command: record(
    {
      type: tag('batch_control_command'),
      request_id: text,
      agent_ids: fc.array(uuid, { maxLength: 20 }),
      command_type: commandType,
      payload: opt(json),
      fail_fast: fc.boolean(),
    },
    ['type', 'request_id', 'agent_ids', 'command_type'],
  ),
  batch_control_response: record(
    {
      type: tag('batch_control_response'),
      request_id: text,
      success: fc.boolean(),
      results: fc.array(batchAgentResult, { maxLength: 20 }),
      successful: u64,
      failed: u64,
    },
    ['type', 'request_id', 'success', 'results', 'successful', 'failed'],
  ),
  output_query_request: record(
    {
      type: tag('output_query_request'),
      request_id: text,
      agent_id: uuid,
      stream: enumOf('output_query_request', 'stream'),
      filter: opt(text),
      limit: opt(u64),
      offset: opt(u64),
    },
    ['type', 'request_id', 'agent_id', 'stream'],
  ),
  output_query_response: record(
    {
      type: tag('output_query_response'),
      request_id: text,
      agent_id: uuid,
      success: fc.boolean(),
      lines: fc.array(text, { maxLength: 40 }),
      total_lines: opt(u64),
      has_more: fc.boolean(),
      error: opt(text),
    },
    ['type', 'request_id', 'agent_id', 'success'],
  ),
  log_stream: record(
    {
      type: tag('log_stream'),
      agent_id: uuid,
      stream_type: enumOf('log_stream', 'stream_type'),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
      ),
      timestamp: systemTime,
      sequence: u64,
    },
    ['type', 'agent_id', 'stream_type', 'data', 'timestamp', 'sequence'],
  ),
};

/** Any message. */
export const anyMessage = fc.oneof(...Object.values(messages)) as unknown as fc.Arbitrary<ZmqMessage>;

// ---- normalize: what decodeMessage returns for a valid input ------------------------------------

function canonicalInt(v: number | bigint): number | bigint {
  if (typeof v === 'bigint') return v >= -BigInt(MAX_SAFE) && v <= BigInt(MAX_SAFE) ? Number(v) : v;
  return Number.isSafeInteger(v) ? v : BigInt(v);
}

/** JSON as it comes back: whole unsafe numbers within i64/u64 become bigints. */
export function normalizeJson(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && !Object.is(v, -0) && v >= -(2 ** 63) && v < 2 ** 64) return canonicalInt(v);
    return v;
  }
  if (typeof v === 'bigint') return canonicalInt(v);
  if (Array.isArray(v)) return v.map(normalizeJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) setOwn(out, k, normalizeJson(x));
    }
    return out;
  }
  return v;
}

function normalizeField(f: Field, v: unknown): unknown {
  if (v === undefined) return f.optional ? null : defaultOf(f);
  if (v === null) return null;
  switch (f.kind) {
    case K_U64:
    case K_I64:
      return canonicalInt(v as number | bigint);
    case K_UUID:
      return (v as string).toLowerCase();
    case K_TIME: {
      const t = v as { secs_since_epoch: number | bigint; nanos_since_epoch: number };
      return { secs_since_epoch: canonicalInt(t.secs_since_epoch), nanos_since_epoch: t.nanos_since_epoch };
    }
    case K_JSON:
    case K_JSON_MAP:
      return normalizeJson(v);
    case K_STRUCT:
      return normalizeStruct(f.struct as StructSchema, v as Record<string, unknown>);
    case K_ARRAY:
      return (v as unknown[]).map((x) =>
        f.elem === K_STRUCT ? normalizeStruct(f.struct as StructSchema, x as Record<string, unknown>) : x,
      );
    case K_BYTES:
      return Uint8Array.from(v as ArrayLike<number>);
    default:
      return normalizeJson(v);
  }
}

function normalizeStruct(s: StructSchema, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of s.fields) out[f.name] = normalizeField(f, obj[f.name]);
  return out;
}

export function normalize(msg: ZmqMessage): ZmqMessage {
  const schema = MESSAGE_BY_TAG.get(msg.type);
  if (schema === undefined) throw new Error(`unknown type ${msg.type}`);
  return {
    type: msg.type,
    ...normalizeStruct(schema.struct, msg as unknown as Record<string, unknown>),
  } as ZmqMessage;
}
