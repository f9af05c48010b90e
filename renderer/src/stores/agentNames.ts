/**
 * An agent's name from what the console already holds: the open server's agents table, else
 * the all-servers table. Null when neither has listed it (callers show a short id, or ask).
 */
import { useAgentsStore } from './agents';
import { fleetKey, useFleetStore } from './fleet';

export function knownAgentName(serverId: string, agentId: string): string | null {
  const agents = useAgentsStore();
  const open = agents.serverId === serverId ? agents.getRow(agentId)?.name : undefined;
  return open ?? useFleetStore().rows.get(fleetKey(serverId, agentId))?.name ?? null;
}
