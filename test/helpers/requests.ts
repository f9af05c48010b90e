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

export function healthCheck(requestId = newRequestId()): HealthCheckRequest {
  return { type: 'health_check_request', request_id: requestId };
}

/** A spawn request; every AgentConfig field not given gets an empty default. */
export function spawnRequest(
  config: Partial<AgentConfig> & Pick<AgentConfig, 'model_backend' | 'task'>,
  opts: { requestId?: string; timeoutSecs?: number; metadata?: Record<string, string> } = {},
): SpawnRequest {
  return {
    type: 'spawn_request',
    request_id: opts.requestId ?? newRequestId(),
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
    type: 'control_command',
    request_id: requestId,
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
    type: 'custom_action_request',
    request_id: opts.requestId ?? newRequestId(),
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
    type: 'batch_control_command',
    request_id: opts.requestId ?? newRequestId(),
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
    type: 'output_query_request',
    request_id: opts.requestId ?? newRequestId(),
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
    type: 'list_agents_request',
    request_id: opts.requestId ?? newRequestId(),
    filter_status: opts.filterStatus ?? null,
    limit: opts.limit ?? null,
  };
}
