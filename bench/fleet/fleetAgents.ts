/**
 * The agents of the fleet bench's scripted servers: 100 per server, with ids derived from the
 * server's index so the console side, the raw baselines and the Chromium scenario agree on them.
 */
import type { AgentInfo, SystemTime } from '../../shared/protocol';

/** Agents each scripted server lists. */
export const AGENTS_PER_SERVER = 100;

const BACKENDS = ['claude', 'gpt', 'llama', 'mistral'] as const;
const STATUSES = ['running', 'running', 'running', 'paused', 'idle', 'failed'] as const;

/** A UUID v4 text made from two small numbers (server index, agent index): stable across processes. */
export function fleetAgentId(server: number, agent: number): string {
  const s = server.toString(16).padStart(4, '0');
  const a = agent.toString(16).padStart(8, '0');
  return `${a}-${s}-4000-8000-${'0'.repeat(8)}${s}`;
}

/** The `agents` list scripted server `server` answers a `list_agents_request` with. */
export function fleetAgents(server: number, startedAtSecs: number): AgentInfo[] {
  return Array.from({ length: AGENTS_PER_SERVER }, (_, agent) => ({
    id: fleetAgentId(server, agent),
    name: `worker-${server}-${agent}`,
    status: STATUSES[(server + agent) % STATUSES.length] ?? 'running',
    model_backend: BACKENDS[agent % BACKENDS.length] ?? 'claude',
    started_at: at(startedAtSecs - server * AGENTS_PER_SERVER - agent),
    task: `summarise shard ${agent} of dataset ${server}`,
  }));
}

function at(secs: number): SystemTime {
  return { secs_since_epoch: secs, nanos_since_epoch: 0 };
}
