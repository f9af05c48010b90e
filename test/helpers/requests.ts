import { randomUUID } from 'node:crypto';
import type {
  AgentConfig,
  AgentStatus,
  BatchControlCommand,
  ControlCommand,
  ControlCommandType,
  CustomActionRequest,
  HealthCheckRequest,
  JsonValue,
  ListAgentsRequest,
  OutputQueryRequest,
  OutputStream,
  SpawnRequest,
  Uuid,
} from '../../shared/protocol';

/** Builders for request messages with a fresh UUID v4 `request_id` (override it with `requestId`). */

/** A fresh UUID v4 text. */
export function newRequestId(): string {
  return randomUUID();
}

export { NIL_UUID } from '../../shared/protocol';

/** The two fields every request starts with: its tag and its id (a fresh one unless given). */
function stamp<K extends string>(type: K, requestId?: string): { type: K; request_id: string } {
  return { type, request_id: requestId ?? newRequestId() };
}

export function healthCheck(requestId = newRequestId()): HealthCheckRequest {
  return stamp('health_check_request', requestId);
}

/** A spawn request; every AgentConfig field not given gets an empty default. */
export function spawnRequest(
  config: Partial<AgentConfig> & Pick<AgentConfig, 'model_backend' | 'task'>,
  opts: { requestId?: string; timeoutSecs?: number; metadata?: Record<string, string> } = {},
): SpawnRequest {
  return {
    ...stamp('spawn_request', opts.requestId),
    config: { name: 'test-agent', environment: {}, ...config },
    timeout_secs: opts.timeoutSecs ?? null,
    metadata: opts.metadata ?? null,
  };
}

export function controlCommand(
  agentId: Uuid,
  commandType: ControlCommandType,
  payload: JsonValue = null,
  requestId = newRequestId(),
): ControlCommand {
  return {
    ...stamp('control_command', requestId),
    agent_id: agentId,
    command_type: commandType,
    payload,
  };
}

export function customAction(
  agentId: Uuid,
  action: string,
  params: JsonValue = null,
  opts: { requestId?: string; timeoutSecs?: number } = {},
): CustomActionRequest {
  return {
    ...stamp('custom_action_request', opts.requestId),
    agent_id: agentId,
    action,
    params,
    timeout_secs: opts.timeoutSecs ?? null,
  };
}

export function batchCommand(
  agentIds: Uuid[],
  commandType: ControlCommandType,
  opts: { failFast?: boolean; payload?: JsonValue; requestId?: string } = {},
): BatchControlCommand {
  return {
    ...stamp('batch_control_command', opts.requestId),
    agent_ids: agentIds,
    command_type: commandType,
    payload: opts.payload ?? null,
    fail_fast: opts.failFast ?? false,
  };
}

export function outputQuery(
  agentId: Uuid,
  stream: OutputStream,
  opts: { filter?: string; limit?: number; offset?: number; requestId?: string } = {},
): OutputQueryRequest {
  return {
    ...stamp('output_query_request', opts.requestId),
    agent_id: agentId,
    stream,
    filter: opts.filter ?? null,
    limit: opts.limit ?? null,
    offset: opts.offset ?? null,
  };
}

export function listAgents(
  opts: { filterStatus?: AgentStatus; limit?: number; requestId?: string } = {},
): ListAgentsRequest {
  return {
    ...stamp('list_agents_request', opts.requestId),
    filter_status: opts.filterStatus ?? null,
    limit: opts.limit ?? null,
  };
}
