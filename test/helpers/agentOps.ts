import type {
  AgentConfig,
  AgentInfo,
  AgentStatus,
  OutputQueryResponse,
  OutputStream,
  Uuid,
} from '../../shared/protocol';
import type { RawClient } from './rawClient';
import { controlCommand, outputQuery, spawnRequest } from './requests';
import { waitUntil } from './wait';

/** Multi-step operations against a running server, shared by the integration tests. */

/**
 * Spawns an agent and returns its AgentInfo.
 * @throws Error with the server's error text when the spawn fails
 */
export async function spawnAgent(
  client: RawClient,
  config: Partial<AgentConfig> & Pick<AgentConfig, 'model_backend' | 'task'>,
): Promise<AgentInfo> {
  const reply = await client.request(spawnRequest(config), 20_000);
  if (!reply.success || reply.agent_info == null) {
    throw new Error(
      `spawn of ${config.model_backend}:${config.task} failed: ${reply.error ?? '(no error text)'}`,
    );
  }
  return reply.agent_info;
}

/**
 * An output query that must succeed.
 * @throws Error with the server's error text otherwise
 */
export async function queryOutput(
  client: RawClient,
  agentId: Uuid,
  stream: OutputStream,
  opts: { filter?: string; limit?: number; offset?: number } = {},
): Promise<OutputQueryResponse> {
  const reply = await client.request(outputQuery(agentId, stream, opts));
  if (!reply.success) throw new Error(`output query failed: ${reply.error ?? '(no error text)'}`);
  return reply;
}

/**
 * Polls the agent's line store until a line satisfies `predicate`, and returns all lines then.
 * @throws Error after `timeoutMs` ms
 */
export function waitForOutput(
  client: RawClient,
  agentId: Uuid,
  predicate: (lines: string[]) => boolean,
  opts: { stream?: OutputStream; timeoutMs?: number; what?: string } = {},
): Promise<string[]> {
  return waitUntil(
    async () => {
      const reply = await queryOutput(client, agentId, opts.stream ?? 'both', { limit: 10_000 });
      return predicate(reply.lines) ? reply.lines : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 10_000, intervalMs: 50, what: opts.what ?? `output of agent ${agentId}` },
  );
}

/** Polls until a line equal to `line` is in the agent's output (both streams). */
export function waitForLine(
  client: RawClient,
  agentId: Uuid,
  line: string,
  timeoutMs = 10_000,
): Promise<string[]> {
  return waitForOutput(client, agentId, (lines) => lines.includes(line), {
    timeoutMs,
    what: `line "${line}"`,
  });
}

/** The agent's status as `get_status` reports it. @throws Error when the command fails */
export async function getStatus(client: RawClient, agentId: Uuid): Promise<AgentStatus> {
  const reply = await client.request(controlCommand(agentId, 'get_status'));
  if (!reply.success) throw new Error(`get_status failed: ${reply.error ?? '(no error text)'}`);
  const data = reply.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || typeof data.status !== 'string') {
    throw new Error(`get_status data is not {"status": "..."}: ${JSON.stringify(data)}`);
  }
  return data.status as AgentStatus;
}

/** Polls `get_status` until the agent is in `status`. @throws Error after `timeoutMs` ms */
export function waitForStatus(
  client: RawClient,
  agentId: Uuid,
  status: AgentStatus,
  timeoutMs = 10_000,
): Promise<AgentStatus> {
  return waitUntil(async () => ((await getStatus(client, agentId)) === status ? status : undefined), {
    timeoutMs,
    intervalMs: 50,
    what: `agent ${agentId} to be ${status}`,
  });
}

/** The pid printed by action-agent.js in its first line (`agent-ready pid=N`). */
export async function actionAgentPid(client: RawClient, agentId: Uuid): Promise<number> {
  const lines = await waitForOutput(
    client,
    agentId,
    (all) => all.some((l) => l.startsWith('agent-ready pid=')),
    {
      stream: 'stdout',
      what: 'agent-ready line',
    },
  );
  const line = lines.find((l) => l.startsWith('agent-ready pid=')) ?? '';
  return Number(line.slice('agent-ready pid='.length));
}
