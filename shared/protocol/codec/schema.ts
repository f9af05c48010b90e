/**
 * The schema table that drives both encode and decode (docs/PROTOCOL.md §3): for every struct, its wire
 * fields in order, each with a kind, whether it is an `Option` and what a left-out field defaults to.
 */
import {
  AGENT_STATUSES,
  CONTROL_COMMAND_TYPES,
  LOG_STREAM_TYPES,
  OUTPUT_STREAMS,
  PAUSE_MODES,
  STATUS_UPDATE_TYPES,
  type MessageType,
} from '../types';

/** Field kinds. Plain numbers so the encode/decode switches compile to jump tables. */
export const K_STR = 0;
export const K_BOOL = 1;
/** u64 / usize. */
export const K_U64 = 2;
export const K_I64 = 3;
export const K_UUID = 4;
/** std::time::SystemTime. */
export const K_TIME = 5;
/** serde_json::Value. */
export const K_JSON = 6;
/** HashMap<String, String>. */
export const K_STR_MAP = 7;
/** HashMap<String, serde_json::Value>. */
export const K_JSON_MAP = 8;
/** Unit enum written as its lowercase name. */
export const K_ENUM = 9;
export const K_STRUCT = 10;
/** Vec<T>; the element is described by `elem` (and `struct` for Vec<Struct>). */
export const K_ARRAY = 11;
/** Vec<u8> (LogStream.data): an array of uints on the wire, a Uint8Array in JS. */
export const K_BYTES = 12;

/** What a field left out of the wire holds (`#[serde(default)]`); DEF_NONE = required unless optional. */
export const DEF_NONE = 0;
export const DEF_EMPTY_STR = 1;
export const DEF_FALSE = 2;
export const DEF_EMPTY_ARRAY = 3;
export const DEF_EMPTY_MAP = 4;

const utf8 = new TextEncoder();

/** A set of ASCII names matched against raw UTF-8 bytes without making a string first. */
export class NameTable {
  readonly names: readonly string[];
  /** names[i] as bytes. */
  readonly bytes: readonly Uint8Array[];
  /** names[i] with its msgpack str header in front, ready to copy to the wire. */
  readonly encoded: readonly Uint8Array[];
  /** Candidate indices by byte length. */
  private readonly byLength: (number[] | undefined)[];
  private readonly byName: Map<string, number>;

  constructor(names: readonly string[]) {
    this.names = names;
    this.bytes = names.map((n) => utf8.encode(n));
    this.encoded = this.bytes.map((b) => {
      if (b.length >= 32) throw new Error('NameTable: names must be shorter than 32 bytes');
      const out = new Uint8Array(b.length + 1);
      out[0] = 0xa0 | b.length;
      out.set(b, 1);
      return out;
    });
    this.byLength = [];
    this.bytes.forEach((b, i) => {
      (this.byLength[b.length] ??= []).push(i);
    });
    this.byName = new Map(names.map((n, i) => [n, i]));
  }

  /** Index of the name spelled by buf[start..start+len), or -1. */
  match(buf: Uint8Array, start: number, len: number): number {
    const candidates = this.byLength[len];
    if (candidates === undefined) return -1;
    for (let c = 0; c < candidates.length; c++) {
      const idx = candidates[c] as number;
      const name = this.bytes[idx] as Uint8Array;
      let i = 0;
      while (i < len && buf[start + i] === name[i]) i++;
      if (i === len) return idx;
    }
    return -1;
  }

  /** Index of a JS string, or -1. */
  indexOf(name: string): number {
    return this.byName.get(name) ?? -1;
  }
}

export interface Field {
  readonly name: string;
  readonly kind: number;
  /** `Option<T>`: nil decodes to null; null/undefined encodes as nil; left out → null. */
  readonly optional: boolean;
  /** Default when left out on the wire (and when undefined on encode). */
  readonly def: number;
  /** K_STRUCT, or K_ARRAY of structs. */
  readonly struct: StructSchema | null;
  /** K_ENUM, or K_ARRAY of enums (unused). */
  readonly enumTable: NameTable | null;
  /** K_ARRAY element kind (K_STR, K_UUID or K_STRUCT). */
  readonly elem: number;
  /** Human wording of the expected value, for errors. */
  readonly expected: string;
}

/**
 * What a field left out on the wire decodes to: its `#[serde(default)]`, or null for an `Option`
 * (and for a required field, which the decoder refuses instead). A new array or object each call,
 * so no two messages share one.
 */
export function defaultOf(f: Field): unknown {
  switch (f.def) {
    case DEF_EMPTY_STR:
      return '';
    case DEF_FALSE:
      return false;
    case DEF_EMPTY_ARRAY:
      return [];
    case DEF_EMPTY_MAP:
      return {};
    default:
      return null;
  }
}

export interface StructSchema {
  /** Rust type name, or the message tag. */
  readonly name: string;
  readonly fields: readonly Field[];
  readonly names: NameTable;
  /** Array form: the shortest array that holds every field without a default. */
  readonly minLength: number;
  /** Builds the JS object from decoded values in field order (monomorphic object literal). */
  readonly build: (v: unknown[]) => object;
  /** Reused by the decoder for this struct's values; structs never contain themselves. */
  readonly scratch: unknown[];
}

export interface MessageSchema {
  readonly tag: MessageType;
  readonly struct: StructSchema;
}

interface FieldOptions {
  optional?: boolean;
  def?: number;
  struct?: StructSchema;
  enumTable?: NameTable;
  elem?: number;
}

const EXPECTED: Record<number, string> = {
  [K_STR]: 'a string',
  [K_BOOL]: 'a bool',
  [K_U64]: 'an unsigned integer',
  [K_I64]: 'an integer',
  [K_UUID]: 'a uuid',
  [K_TIME]: 'a SystemTime',
  [K_JSON]: 'a JSON value',
  [K_STR_MAP]: 'a map of strings',
  [K_JSON_MAP]: 'a map of JSON values',
  [K_ENUM]: 'an enum name',
  [K_STRUCT]: 'a struct',
  [K_ARRAY]: 'an array',
  [K_BYTES]: 'an array of bytes',
};

function field(name: string, kind: number, opts: FieldOptions = {}): Field {
  return {
    name,
    kind,
    optional: opts.optional ?? false,
    def: opts.def ?? DEF_NONE,
    struct: opts.struct ?? null,
    enumTable: opts.enumTable ?? null,
    elem: opts.elem ?? -1,
    expected: EXPECTED[kind] ?? 'a value',
  };
}

const opt = { optional: true } as const;

function struct(name: string, fields: Field[], build: (v: unknown[]) => object): StructSchema {
  let minLength = 0;
  fields.forEach((f, i) => {
    if (!f.optional && f.def === DEF_NONE) minLength = i + 1;
  });
  if (fields.length > 30) throw new Error('StructSchema: at most 30 fields (seen-field bit mask)');
  return { name, fields, names: new NameTable(fields.map((f) => f.name)), minLength, build, scratch: [] };
}

export const CONTROL_COMMAND_TYPE_TABLE = new NameTable(CONTROL_COMMAND_TYPES);
export const AGENT_STATUS_TABLE = new NameTable(AGENT_STATUSES);
export const STATUS_UPDATE_TYPE_TABLE = new NameTable(STATUS_UPDATE_TYPES);
export const PAUSE_MODE_TABLE = new NameTable(PAUSE_MODES);
export const OUTPUT_STREAM_TABLE = new NameTable(OUTPUT_STREAMS);
export const LOG_STREAM_TYPE_TABLE = new NameTable(LOG_STREAM_TYPES);

/** SystemTime's two map keys (it has its own decoder: map form rejects unknown keys). */
export const TIME_KEYS = new NameTable(['secs_since_epoch', 'nanos_since_epoch']);

const str = (name: string, opts?: FieldOptions) => field(name, K_STR, opts);
const uuid = (name: string) => field(name, K_UUID);
const bool = (name: string, opts?: FieldOptions) => field(name, K_BOOL, opts);
const u64 = (name: string, opts?: FieldOptions) => field(name, K_U64, opts);
const json = (name: string) => field(name, K_JSON, opt);
const enm = (name: string, table: NameTable, opts?: FieldOptions) =>
  field(name, K_ENUM, { ...opts, enumTable: table });
const time = (name: string, opts?: FieldOptions) => field(name, K_TIME, opts);
const requestId = () => str('request_id');

export const ATTACH_INFO = struct(
  'AttachInfo',
  [str('connect_url'), str('token'), field('expires_at', K_I64)],
  (v) => ({ connect_url: v[0], token: v[1], expires_at: v[2] }),
);

export const AGENT_INFO = struct(
  'AgentInfo',
  [
    uuid('id'),
    str('name'),
    enm('status', AGENT_STATUS_TABLE),
    str('model_backend'),
    time('started_at'),
    str('task'),
    time('paused_at', opt),
    enm('pause_mode', PAUSE_MODE_TABLE, opt),
    field('attach_info', K_STRUCT, { optional: true, struct: ATTACH_INFO }),
  ],
  (v) => ({
    id: v[0],
    name: v[1],
    status: v[2],
    model_backend: v[3],
    started_at: v[4],
    task: v[5],
    paused_at: v[6],
    pause_mode: v[7],
    attach_info: v[8],
  }),
);

export const AGENT_CONFIG = struct(
  'AgentConfig',
  [
    str('name', { def: DEF_EMPTY_STR }),
    str('model_backend', { def: DEF_EMPTY_STR }),
    str('task', { def: DEF_EMPTY_STR }),
    str('context', opt),
    str('system_prompt', opt),
    field('environment', K_STR_MAP, { def: DEF_EMPTY_MAP }),
    str('model', opt),
    str('tool_level', opt),
    field('agents', K_JSON_MAP, opt),
  ],
  (v) => ({
    name: v[0],
    model_backend: v[1],
    task: v[2],
    context: v[3],
    system_prompt: v[4],
    environment: v[5],
    model: v[6],
    tool_level: v[7],
    agents: v[8],
  }),
);

export const BATCH_AGENT_RESULT = struct(
  'BatchAgentResult',
  [uuid('agent_id'), bool('success'), enm('status', AGENT_STATUS_TABLE, opt), str('error', opt)],
  (v) => ({ agent_id: v[0], success: v[1], status: v[2], error: v[3] }),
);

function message(tag: MessageType, fields: Field[], build: (v: unknown[]) => object): MessageSchema {
  return { tag, struct: struct(tag, fields, build) };
}

/** Every message, in the Rust enum's variant order. */
export const MESSAGES: readonly MessageSchema[] = [
  message(
    'spawn_request',
    [
      requestId(),
      field('config', K_STRUCT, { struct: AGENT_CONFIG }),
      u64('timeout_secs', opt),
      field('metadata', K_STR_MAP, opt),
    ],
    (v) => ({ type: 'spawn_request', request_id: v[0], config: v[1], timeout_secs: v[2], metadata: v[3] }),
  ),
  message(
    'spawn_response',
    [
      requestId(),
      bool('success'),
      field('agent_info', K_STRUCT, { optional: true, struct: AGENT_INFO }),
      str('error', opt),
      str('server_id', opt),
    ],
    (v) => ({
      type: 'spawn_response',
      request_id: v[0],
      success: v[1],
      agent_info: v[2],
      error: v[3],
      server_id: v[4],
    }),
  ),
  message(
    'control_command',
    [requestId(), uuid('agent_id'), enm('command_type', CONTROL_COMMAND_TYPE_TABLE), json('payload')],
    (v) => ({ type: 'control_command', request_id: v[0], agent_id: v[1], command_type: v[2], payload: v[3] }),
  ),
  message(
    'command_response',
    [
      requestId(),
      uuid('agent_id'),
      bool('success'),
      enm('status', AGENT_STATUS_TABLE, opt),
      json('data'),
      str('error', opt),
    ],
    (v) => ({
      type: 'command_response',
      request_id: v[0],
      agent_id: v[1],
      success: v[2],
      status: v[3],
      data: v[4],
      error: v[5],
    }),
  ),
  message(
    'status_update',
    [
      uuid('agent_id'),
      enm('update_type', STATUS_UPDATE_TYPE_TABLE),
      enm('status', AGENT_STATUS_TABLE, opt),
      str('message', opt),
      json('data'),
      time('timestamp'),
    ],
    (v) => ({
      type: 'status_update',
      agent_id: v[0],
      update_type: v[1],
      status: v[2],
      message: v[3],
      data: v[4],
      timestamp: v[5],
    }),
  ),
  message(
    'list_agents_request',
    [requestId(), enm('filter_status', AGENT_STATUS_TABLE, opt), u64('limit', opt)],
    (v) => ({ type: 'list_agents_request', request_id: v[0], filter_status: v[1], limit: v[2] }),
  ),
  message(
    'list_agents_response',
    [
      requestId(),
      bool('success'),
      field('agents', K_ARRAY, { def: DEF_EMPTY_ARRAY, elem: K_STRUCT, struct: AGENT_INFO }),
      str('error', opt),
    ],
    (v) => ({ type: 'list_agents_response', request_id: v[0], success: v[1], agents: v[2], error: v[3] }),
  ),
  message('health_check_request', [requestId()], (v) => ({ type: 'health_check_request', request_id: v[0] })),
  message(
    'health_check_response',
    [
      requestId(),
      bool('healthy'),
      str('protocol_version'),
      u64('uptime_secs', opt),
      u64('active_agents', opt),
      field('metadata', K_STR_MAP, opt),
    ],
    (v) => ({
      type: 'health_check_response',
      request_id: v[0],
      healthy: v[1],
      protocol_version: v[2],
      uptime_secs: v[3],
      active_agents: v[4],
      metadata: v[5],
    }),
  ),
  message(
    'custom_action_request',
    [requestId(), uuid('agent_id'), str('action'), json('params'), u64('timeout_secs', opt)],
    (v) => ({
      type: 'custom_action_request',
      request_id: v[0],
      agent_id: v[1],
      action: v[2],
      params: v[3],
      timeout_secs: v[4],
    }),
  ),
  message(
    'batch_control_command',
    [
      requestId(),
      field('agent_ids', K_ARRAY, { elem: K_UUID }),
      enm('command_type', CONTROL_COMMAND_TYPE_TABLE),
      json('payload'),
      bool('fail_fast', { def: DEF_FALSE }),
    ],
    (v) => ({
      type: 'batch_control_command',
      request_id: v[0],
      agent_ids: v[1],
      command_type: v[2],
      payload: v[3],
      fail_fast: v[4],
    }),
  ),
  message(
    'batch_control_response',
    [
      requestId(),
      bool('success'),
      field('results', K_ARRAY, { elem: K_STRUCT, struct: BATCH_AGENT_RESULT }),
      u64('successful'),
      u64('failed'),
    ],
    (v) => ({
      type: 'batch_control_response',
      request_id: v[0],
      success: v[1],
      results: v[2],
      successful: v[3],
      failed: v[4],
    }),
  ),
  message(
    'output_query_request',
    [
      requestId(),
      uuid('agent_id'),
      enm('stream', OUTPUT_STREAM_TABLE),
      str('filter', opt),
      u64('limit', opt),
      u64('offset', opt),
    ],
    (v) => ({
      type: 'output_query_request',
      request_id: v[0],
      agent_id: v[1],
      stream: v[2],
      filter: v[3],
      limit: v[4],
      offset: v[5],
    }),
  ),
  message(
    'output_query_response',
    [
      requestId(),
      uuid('agent_id'),
      bool('success'),
      field('lines', K_ARRAY, { def: DEF_EMPTY_ARRAY, elem: K_STR }),
      u64('total_lines', opt),
      bool('has_more', { def: DEF_FALSE }),
      str('error', opt),
    ],
    (v) => ({
      type: 'output_query_response',
      request_id: v[0],
      agent_id: v[1],
      success: v[2],
      lines: v[3],
      total_lines: v[4],
      has_more: v[5],
      error: v[6],
    }),
  ),
  message(
    'log_stream',
    [
      uuid('agent_id'),
      enm('stream_type', LOG_STREAM_TYPE_TABLE),
      field('data', K_BYTES),
      time('timestamp'),
      u64('sequence'),
    ],
    (v) => ({
      type: 'log_stream',
      agent_id: v[0],
      stream_type: v[1],
      data: v[2],
      timestamp: v[3],
      sequence: v[4],
    }),
  ),
];

/** Message tags as a NameTable (index = position in MESSAGES). */
export const MESSAGE_TAGS = new NameTable(MESSAGES.map((m) => m.tag));
