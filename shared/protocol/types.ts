/**
 * descartes 1.0.0 message types (docs/PROTOCOL.md §3).
 *
 * Every object here is the serde JSON form of the Rust value: the `type` tag, wire field
 * names, UUIDs as lowercase hyphenated strings, times as `{secs_since_epoch,
 * nanos_since_epoch}`, `None` as `null`. Decoding yields every field (`null` for None);
 * encoding treats a missing optional field as None, which is why optional fields are
 * declared `?: T | null`.
 */

/** Protocol version string both peers put in `health_check_response`. */
export const PROTOCOL_VERSION = '1.0.0';

/** Largest encoded message in either direction, in bytes (10 MiB). */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * Longest `request_id` our server accepts, in UTF-8 bytes. Ids are UUID text (36 bytes); the
 * server keeps each mutating request's id for an hour in memory, its journal and exec log, so
 * an unbounded id would let one client fill them (a 9 MiB id per request did).
 */
export const MAX_REQUEST_ID_BYTES = 128;

/** UUID as 36-char lowercase hyphenated text. */
export type Uuid = string;

/**
 * An unsigned or signed integer from the wire. A JS `number` when it is a safe integer,
 * otherwise a `bigint` (u64 values above 2^53). Encoders accept both.
 */
export type WireInt = number | bigint;

/** A `serde_json::Value`. Integers outside the safe range are `bigint`. */
export type JsonValue =
  null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** `std::time::SystemTime` in serde's form: seconds and nanoseconds since the Unix epoch. */
export interface SystemTime {
  secs_since_epoch: WireInt;
  nanos_since_epoch: number;
}

export const CONTROL_COMMAND_TYPES = [
  'pause',
  'resume',
  'stop',
  'kill',
  'write_stdin',
  'read_stdout',
  'read_stderr',
  'get_status',
  'signal',
  'custom_action',
  'query_output',
  'stream_logs',
] as const;
export type ControlCommandType = (typeof CONTROL_COMMAND_TYPES)[number];

export const AGENT_STATUSES = [
  'idle',
  'initializing',
  'running',
  'thinking',
  'paused',
  'completed',
  'failed',
  'terminated',
] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const STATUS_UPDATE_TYPES = [
  'status_changed',
  'output_available',
  'error',
  'completed',
  'terminated',
  'heartbeat',
] as const;
export type StatusUpdateType = (typeof STATUS_UPDATE_TYPES)[number];

export const PAUSE_MODES = ['cooperative', 'forced'] as const;
export type PauseMode = (typeof PAUSE_MODES)[number];

export const OUTPUT_STREAMS = ['stdout', 'stderr', 'both'] as const;
export type OutputStream = (typeof OUTPUT_STREAMS)[number];

export const LOG_STREAM_TYPES = ['stdout', 'stderr'] as const;
export type LogStreamType = (typeof LOG_STREAM_TYPES)[number];

/** AgentConfig: every field has a default upstream, so every field may be left out on decode. */
export interface AgentConfig {
  name: string;
  model_backend: string;
  task: string;
  context?: string | null;
  system_prompt?: string | null;
  environment: Record<string, string>;
  model?: string | null;
  tool_level?: string | null;
  agents?: Record<string, JsonValue> | null;
}

export interface AttachInfo {
  connect_url: string;
  token: string;
  /** Unix seconds (i64). */
  expires_at: WireInt;
}

export interface AgentInfo {
  id: Uuid;
  name: string;
  status: AgentStatus;
  model_backend: string;
  started_at: SystemTime;
  task: string;
  paused_at?: SystemTime | null;
  pause_mode?: PauseMode | null;
  attach_info?: AttachInfo | null;
}

export interface BatchAgentResult {
  agent_id: Uuid;
  success: boolean;
  status?: AgentStatus | null;
  error?: string | null;
}

export interface SpawnRequest {
  type: 'spawn_request';
  request_id: string;
  config: AgentConfig;
  timeout_secs?: WireInt | null;
  metadata?: Record<string, string> | null;
}

export interface SpawnResponse {
  type: 'spawn_response';
  request_id: string;
  success: boolean;
  agent_info?: AgentInfo | null;
  error?: string | null;
  server_id?: string | null;
}

export interface ControlCommand {
  type: 'control_command';
  request_id: string;
  agent_id: Uuid;
  command_type: ControlCommandType;
  payload?: JsonValue;
}

export interface CommandResponse {
  type: 'command_response';
  request_id: string;
  agent_id: Uuid;
  success: boolean;
  status?: AgentStatus | null;
  data?: JsonValue;
  error?: string | null;
}

export interface StatusUpdate {
  type: 'status_update';
  agent_id: Uuid;
  update_type: StatusUpdateType;
  status?: AgentStatus | null;
  message?: string | null;
  data?: JsonValue;
  timestamp: SystemTime;
}

export interface ListAgentsRequest {
  type: 'list_agents_request';
  request_id: string;
  filter_status?: AgentStatus | null;
  limit?: WireInt | null;
}

export interface ListAgentsResponse {
  type: 'list_agents_response';
  request_id: string;
  success: boolean;
  agents: AgentInfo[];
  error?: string | null;
}

export interface HealthCheckRequest {
  type: 'health_check_request';
  request_id: string;
}

export interface HealthCheckResponse {
  type: 'health_check_response';
  request_id: string;
  healthy: boolean;
  protocol_version: string;
  uptime_secs?: WireInt | null;
  active_agents?: WireInt | null;
  metadata?: Record<string, string> | null;
}

export interface CustomActionRequest {
  type: 'custom_action_request';
  request_id: string;
  agent_id: Uuid;
  action: string;
  params?: JsonValue;
  timeout_secs?: WireInt | null;
}

export interface BatchControlCommand {
  type: 'batch_control_command';
  request_id: string;
  agent_ids: Uuid[];
  command_type: ControlCommandType;
  payload?: JsonValue;
  /** Defaults to false when left out on the wire. */
  fail_fast: boolean;
}

export interface BatchControlResponse {
  type: 'batch_control_response';
  request_id: string;
  success: boolean;
  results: BatchAgentResult[];
  successful: WireInt;
  failed: WireInt;
}

export interface OutputQueryRequest {
  type: 'output_query_request';
  request_id: string;
  agent_id: Uuid;
  stream: OutputStream;
  filter?: string | null;
  limit?: WireInt | null;
  offset?: WireInt | null;
}

export interface OutputQueryResponse {
  type: 'output_query_response';
  request_id: string;
  agent_id: Uuid;
  success: boolean;
  lines: string[];
  total_lines?: WireInt | null;
  has_more: boolean;
  error?: string | null;
}

export interface LogStream {
  type: 'log_stream';
  agent_id: Uuid;
  stream_type: LogStreamType;
  /** Raw bytes. Decoding yields a Uint8Array; encoding accepts either form. */
  data: Uint8Array | number[];
  timestamp: SystemTime;
  sequence: WireInt;
}

/** Every descartes 1.0.0 message (the Rust `ZmqMessage` enum). */
export type ZmqMessage =
  | SpawnRequest
  | SpawnResponse
  | ControlCommand
  | CommandResponse
  | StatusUpdate
  | ListAgentsRequest
  | ListAgentsResponse
  | HealthCheckRequest
  | HealthCheckResponse
  | CustomActionRequest
  | BatchControlCommand
  | BatchControlResponse
  | OutputQueryRequest
  | OutputQueryResponse
  | LogStream;

/**
 * Every message tag, in the Rust `ZmqMessage` enum's variant order (the codec's schema table
 * lists its messages in this order too). The one list: the server's salvage peek, the fuzzers
 * and the tests take it from here.
 */
export const MESSAGE_TYPES = [
  'spawn_request',
  'spawn_response',
  'control_command',
  'command_response',
  'status_update',
  'list_agents_request',
  'list_agents_response',
  'health_check_request',
  'health_check_response',
  'custom_action_request',
  'batch_control_command',
  'batch_control_response',
  'output_query_request',
  'output_query_response',
  'log_stream',
] as const satisfies readonly ZmqMessage['type'][];

export type MessageType = ZmqMessage['type'];

/** Whether `tag` names a descartes 1.0.0 message (a frame with another tag cannot be decoded). */
export function isMessageType(tag: string): tag is MessageType {
  return (MESSAGE_TYPES as readonly string[]).includes(tag);
}

/**
 * The nil UUID. Heartbeats are status updates of this agent id (topic `status.<nil>`), and
 * replies that concern no agent carry it (docs/PROTOCOL.md).
 */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Messages a client sends; each has a `request_id` and exactly one reply type. */
export type RequestMessage =
  | SpawnRequest
  | ControlCommand
  | ListAgentsRequest
  | HealthCheckRequest
  | CustomActionRequest
  | BatchControlCommand
  | OutputQueryRequest;

export type ReplyMessage =
  | SpawnResponse
  | CommandResponse
  | ListAgentsResponse
  | HealthCheckResponse
  | BatchControlResponse
  | OutputQueryResponse;

/** Events a server publishes on PUB. */
export type EventMessage = StatusUpdate | LogStream;

/** Which reply type answers each request type. */
export interface ReplyFor {
  spawn_request: SpawnResponse;
  control_command: CommandResponse;
  list_agents_request: ListAgentsResponse;
  health_check_request: HealthCheckResponse;
  custom_action_request: CommandResponse;
  batch_control_command: BatchControlResponse;
  output_query_request: OutputQueryResponse;
}

export const REPLY_TYPE: { readonly [K in RequestMessage['type']]: ReplyFor[K]['type'] } = {
  spawn_request: 'spawn_response',
  control_command: 'command_response',
  list_agents_request: 'list_agents_response',
  health_check_request: 'health_check_response',
  custom_action_request: 'command_response',
  batch_control_command: 'batch_control_response',
  output_query_request: 'output_query_response',
};

/** Whether `tag` names a request (a message a console sends and a server answers with `REPLY_TYPE[tag]`). */
export function isRequestType(tag: string): tag is RequestMessage['type'] {
  return Object.hasOwn(REPLY_TYPE, tag);
}
