/**
 * Valid descartes messages of every type drawn from a seeded PRNG: the fuzzers send them as they
 * are and use them as the raw material of mutations. Values are varied (empty, Unicode, long,
 * u64 beyond 2^53, nested JSON) but cheap: no regex filter that could backtrack, no spawn of
 * anything but the fuzz backend.
 */
import {
  AGENT_STATUSES,
  CONTROL_COMMAND_TYPES,
  LOG_STREAM_TYPES,
  OUTPUT_STREAMS,
  PAUSE_MODES,
  STATUS_UPDATE_TYPES,
  type AgentInfo,
  type JsonValue,
  type ReplyMessage,
  type RequestMessage,
  type StatusUpdate,
  type LogStream,
  type SystemTime,
  type ZmqMessage,
} from '../shared/protocol';
import type { Prng } from './prng';

/** The backend the fuzz server config defines (a harmless fixed program; the task is ignored). */
export const FUZZ_BACKEND = 'fuzz';

/** Regex filters an output query may carry: cheap to run on any line. */
const CHEAP_FILTERS = ['line', '^line [0-9]+$', 'ERROR|WARN', '.', '(', '[', '\\d{2}', 'x*', ''];

const TEXTS = [
  '',
  'a',
  'worker',
  'émoji 😀 ok',
  '名前',
  'x'.repeat(300),
  'line\nbreak',
  '\u0000nul',
  '🙂'.repeat(20),
];

export function sampleText(prng: Prng): string {
  if (prng.chance(0.2)) {
    let s = '';
    const n = prng.int(24);
    for (let i = 0; i < n; i++)
      s += String.fromCodePoint(prng.chance(0.8) ? prng.range(0x20, 0x7e) : prng.range(0xa0, 0x2fff));
    return s;
  }
  return prng.pick(TEXTS);
}

/** A JSON value nested at most `depth` deep, with at most a few elements per level. */
export function sampleJson(prng: Prng, depth = 3): JsonValue {
  const k = prng.int(depth > 0 ? 9 : 6);
  switch (k) {
    case 0:
      return null;
    case 1:
      return prng.chance(0.5);
    case 2:
      return prng.range(-1000, 1000);
    case 3:
      return prng.float() * 1e6 - 5e5;
    case 4:
      return sampleText(prng);
    case 5:
      return prng.pick([0, -1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1, 1.5, 1e300]);
    case 6:
    case 7: {
      const n = prng.int(5);
      return Array.from({ length: n }, () => sampleJson(prng, depth - 1));
    }
    default: {
      const out: Record<string, JsonValue> = {};
      const n = prng.int(5);
      for (let i = 0; i < n; i++)
        out[prng.pick(['a', 'b', 'data', 'force', 'signal', 'ms', sampleText(prng)])] = sampleJson(
          prng,
          depth - 1,
        );
      return out;
    }
  }
}

function stringMap(prng: Prng): Record<string, string> {
  const out: Record<string, string> = {};
  const n = prng.int(4);
  for (let i = 0; i < n; i++) out[prng.pick(['K', 'PATH_X', 'LANG', sampleText(prng)])] = sampleText(prng);
  return out;
}

function time(prng: Prng): SystemTime {
  return { secs_since_epoch: prng.range(0, 2_000_000_000), nanos_since_epoch: prng.range(0, 999_999_999) };
}

function u64(prng: Prng): number | bigint {
  return prng.pick<number | bigint>([0, 1, prng.int(100), prng.int(100_000), 2 ** 32, 2n ** 64n - 1n]);
}

/** A small limit/offset: mostly the usual range, sometimes extreme. */
function count(prng: Prng): number | bigint | null {
  if (prng.chance(0.3)) return null;
  return prng.chance(0.9)
    ? prng.int(200)
    : prng.pick<number | bigint>([0, 10_000, 10_001, 2 ** 40, 2n ** 64n - 1n]);
}

/**
 * Draws agent ids: mostly ones the caller knows to exist (`known`), else random ones (which the
 * server answers with "Agent not found").
 */
function agentId(prng: Prng, known: readonly string[]): string {
  return known.length > 0 && prng.chance(0.6) ? prng.pick(known) : prng.uuid();
}

/** Options of {@link sampleRequest}. */
export interface RequestSampleOptions {
  /** Agent ids the server is known to run (from spawn replies). */
  readonly knownAgents: readonly string[];
  /** Chance that the request is a spawn (kept low: each one starts a process). */
  readonly spawnChance: number;
}

/** A valid request of any type. */
export function sampleRequest(prng: Prng, options: RequestSampleOptions): RequestMessage {
  const request_id = prng.uuid();
  const known = options.knownAgents;
  if (prng.chance(options.spawnChance)) {
    return {
      type: 'spawn_request',
      request_id,
      config: {
        name: sampleText(prng),
        model_backend: FUZZ_BACKEND,
        task: sampleText(prng),
        context: prng.chance(0.5) ? null : sampleText(prng),
        system_prompt: null,
        environment: stringMap(prng),
        model: null,
        tool_level: null,
        agents: prng.chance(0.8) ? null : { a: sampleJson(prng) },
      },
      timeout_secs: prng.chance(0.5) ? null : prng.range(1, 5),
      metadata: prng.chance(0.5) ? null : stringMap(prng),
    };
  }
  switch (prng.int(7)) {
    case 0:
      return { type: 'health_check_request', request_id };
    case 1:
      return {
        type: 'list_agents_request',
        request_id,
        filter_status: prng.chance(0.5) ? null : prng.pick(AGENT_STATUSES),
        limit: count(prng),
      };
    case 2:
      return {
        type: 'output_query_request',
        request_id,
        agent_id: agentId(prng, known),
        stream: prng.pick(OUTPUT_STREAMS),
        filter: prng.chance(0.5) ? null : prng.pick(CHEAP_FILTERS),
        limit: count(prng),
        offset: count(prng),
      };
    case 3: {
      const command_type = prng.pick(CONTROL_COMMAND_TYPES);
      return {
        type: 'control_command',
        request_id,
        agent_id: agentId(prng, known),
        command_type,
        payload: controlPayload(prng, command_type),
      };
    }
    case 4:
      return {
        type: 'custom_action_request',
        request_id,
        agent_id: agentId(prng, known),
        action: prng.pick([
          'echo',
          'ping',
          'get_env',
          'list_actions',
          'stats',
          'add',
          'no_such_action',
          sampleText(prng),
        ]),
        params: sampleJson(prng),
        // Forwarded actions wait for the agent: keep the wait short.
        timeout_secs: prng.chance(0.2) ? null : prng.range(0, 2),
      };
    case 5: {
      const command_type = prng.pick(CONTROL_COMMAND_TYPES);
      return {
        type: 'batch_control_command',
        request_id,
        agent_ids: Array.from({ length: prng.int(6) }, () => agentId(prng, known)),
        command_type,
        payload: controlPayload(prng, command_type),
        fail_fast: prng.chance(0.5),
      };
    }
    default:
      return { type: 'health_check_request', request_id };
  }
}

function controlPayload(prng: Prng, commandType: string): JsonValue {
  if (prng.chance(0.3)) return sampleJson(prng);
  switch (commandType) {
    case 'pause':
    case 'resume':
      return prng.chance(0.5) ? { force: prng.chance(0.5) } : null;
    case 'signal':
      return { signal: prng.pick(['interrupt', 'terminate', 'kill', 'stop', 'continue', 'bogus']) };
    case 'write_stdin':
      return { data: `${sampleText(prng)}\n` };
    default:
      return null;
  }
}

function agentInfo(prng: Prng, id: string = prng.uuid()): AgentInfo {
  return {
    id,
    name: sampleText(prng),
    status: prng.pick(AGENT_STATUSES),
    model_backend: prng.pick(['shell', 'claude', FUZZ_BACKEND]),
    started_at: time(prng),
    task: sampleText(prng),
    paused_at: prng.chance(0.7) ? null : time(prng),
    pause_mode: prng.chance(0.7) ? null : prng.pick(PAUSE_MODES),
    attach_info: prng.chance(0.9)
      ? null
      : {
          connect_url: sampleText(prng),
          token: sampleText(prng),
          expires_at: prng.range(-1000, 2_000_000_000),
        },
  };
}

/** Options of {@link sampleReply}. */
export interface ReplySampleOptions {
  /** Metadata for health replies (e.g. a pub_endpoint that leads the console to a fake PUB). */
  readonly healthMetadata?: Record<string, string> | null;
}

/** A valid reply to `req` (the right type and request id), with random content. */
export function sampleReply(prng: Prng, req: RequestMessage, options: ReplySampleOptions = {}): ReplyMessage {
  const request_id = req.request_id;
  const success = prng.chance(0.7);
  const error = success ? null : sampleText(prng);
  switch (req.type) {
    case 'health_check_request':
      return {
        type: 'health_check_response',
        request_id,
        healthy: prng.chance(0.9),
        protocol_version: prng.chance(0.9) ? '1.0.0' : sampleText(prng),
        uptime_secs: u64(prng),
        active_agents: u64(prng),
        metadata: options.healthMetadata === undefined ? stringMap(prng) : options.healthMetadata,
      };
    case 'spawn_request':
      return {
        type: 'spawn_response',
        request_id,
        success,
        agent_info: success ? agentInfo(prng) : null,
        error,
        server_id: prng.chance(0.5) ? null : sampleText(prng),
      };
    case 'control_command':
    case 'custom_action_request':
      return {
        type: 'command_response',
        request_id,
        agent_id: req.agent_id,
        success,
        status: prng.chance(0.5) ? null : prng.pick(AGENT_STATUSES),
        data: sampleJson(prng),
        error,
      };
    case 'list_agents_request':
      return {
        type: 'list_agents_response',
        request_id,
        success,
        agents: Array.from({ length: prng.int(5) }, () => agentInfo(prng)),
        error,
      };
    case 'batch_control_command': {
      const results = req.agent_ids.map((agent_id) => ({
        agent_id,
        success: prng.chance(0.5),
        status: prng.chance(0.5) ? null : prng.pick(AGENT_STATUSES),
        error: prng.chance(0.5) ? null : sampleText(prng),
      }));
      return {
        type: 'batch_control_response',
        request_id,
        success,
        results,
        successful: u64(prng),
        failed: u64(prng),
      };
    }
    case 'output_query_request': {
      const lines = Array.from({ length: prng.int(8) }, () => sampleText(prng));
      return {
        type: 'output_query_response',
        request_id,
        agent_id: req.agent_id,
        success,
        lines,
        total_lines: prng.chance(0.2) ? null : u64(prng),
        has_more: prng.chance(0.3),
        error,
      };
    }
    default: {
      const never: never = req;
      return never;
    }
  }
}

/** A valid status update or log chunk for `agentId` (random when absent). */
export function sampleEvent(
  prng: Prng,
  agentId: string = prng.uuid(),
  seq?: number,
): StatusUpdate | LogStream {
  if (prng.chance(0.5)) {
    return {
      type: 'status_update',
      agent_id: agentId,
      update_type: prng.pick(STATUS_UPDATE_TYPES),
      status: prng.chance(0.5) ? null : prng.pick(AGENT_STATUSES),
      message: prng.chance(0.5) ? null : sampleText(prng),
      data: seq === undefined ? sampleJson(prng) : { seq },
      timestamp: time(prng),
    };
  }
  return {
    type: 'log_stream',
    agent_id: agentId,
    stream_type: prng.pick(LOG_STREAM_TYPES),
    data: Array.from(new TextEncoder().encode(`${sampleText(prng)}\n`)),
    timestamp: time(prng),
    sequence: seq ?? u64(prng),
  };
}

/** A valid message of any of the 15 types (requests, replies, events). */
export function sampleAnyMessage(prng: Prng, knownAgents: readonly string[] = []): ZmqMessage {
  const req = sampleRequest(prng, { knownAgents, spawnChance: 0.15 });
  switch (prng.int(3)) {
    case 0:
      return req;
    case 1:
      return sampleReply(prng, req);
    default:
      return sampleEvent(prng);
  }
}
