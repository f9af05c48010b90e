import { AGENT_STATUSES } from '../shared/protocol';
import type { AgentStatus } from '../shared/protocol';
import { AGENT_END_REASONS } from '../shared/domain/agentDetails';
import type { AgentEndReason } from '../shared/domain/agentDetails';

/** Version of the record file format (docs/PROTOCOL.md §4.9). */
export const AGENT_RECORD_VERSION = 1;

/**
 * One agent's record file (`agents/<id>/record.json` in the state dir), written whole and
 * renamed into place, so it is never half read. Times are ms since the epoch.
 */
export interface AgentRecord {
  readonly v: typeof AGENT_RECORD_VERSION;
  readonly id: string;
  /** Spawn order across server runs: the list shows agents by it. */
  readonly seq: number;
  readonly name: string;
  readonly backend: string;
  readonly task: string;
  readonly pid: number | null;
  readonly started_at_ms: number;
  /** Null while it runs (or when the server died while it ran). */
  readonly ended_at_ms: number | null;
  readonly status: AgentStatus;
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly end_reason: AgentEndReason | null;
  /** Lines of each stream whose output file the disk budget deleted. */
  readonly dropped_stdout: number;
  readonly dropped_stderr: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isIntOrNull(v: unknown): v is number | null {
  return v === null || (typeof v === 'number' && Number.isSafeInteger(v));
}

/**
 * Checks a parsed record file.
 * @param id the agent id its directory is named after
 * @returns the record, or a sentence naming the first field that is wrong
 */
export function parseAgentRecord(json: unknown, id: string): AgentRecord | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not a JSON object';
  const r = json as Record<string, unknown>;
  if (r.v !== AGENT_RECORD_VERSION) return `unknown format version ${JSON.stringify(r.v)}`;
  if (typeof r.id !== 'string' || !UUID.test(r.id) || r.id !== id) return `'id' is not ${id}`;
  for (const key of ['name', 'backend', 'task'] as const) {
    if (typeof r[key] !== 'string') return `'${key}' is not a string`;
  }
  for (const key of ['seq', 'started_at_ms', 'dropped_stdout', 'dropped_stderr'] as const) {
    if (!isCount(r[key])) return `'${key}' is not a non-negative integer`;
  }
  for (const key of ['pid', 'ended_at_ms', 'exit_code'] as const) {
    if (!isIntOrNull(r[key])) return `'${key}' is not an integer or null`;
  }
  if (typeof r.status !== 'string' || !(AGENT_STATUSES as readonly string[]).includes(r.status)) {
    return `'status' is not one of ${AGENT_STATUSES.join(', ')}`;
  }
  if (r.signal !== null && typeof r.signal !== 'string') return "'signal' is not a string or null";
  if (
    r.end_reason !== null &&
    (typeof r.end_reason !== 'string' || !(AGENT_END_REASONS as readonly string[]).includes(r.end_reason))
  ) {
    return `'end_reason' is not one of ${AGENT_END_REASONS.join(', ')} or null`;
  }
  return r as unknown as AgentRecord;
}
