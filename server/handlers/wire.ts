import type { AgentStatus, CommandResponse, JsonValue, Uuid, WireInt } from '../../shared/protocol';

/** A wire integer as a JS number (bigints beyond 2^53 are clamped), or `fallback` for None. */
export function toCount(value: WireInt | null | undefined, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'bigint')
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  return value;
}

/** A JSON object payload's fields, or null when the payload is not an object. */
export function payloadObject(payload: JsonValue | undefined): Record<string, JsonValue> | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  return payload;
}

/** Builds a `command_response`. */
export function commandResponse(
  requestId: string,
  agentId: Uuid,
  success: boolean,
  status: AgentStatus | null,
  data: JsonValue,
  error: string | null,
): CommandResponse {
  return { type: 'command_response', request_id: requestId, agent_id: agentId, success, status, data, error };
}

/** The error text for an agent id this server does not know (upstream wording). */
export function agentNotFound(agentId: Uuid): string {
  return `Agent not found: ${agentId}`;
}
