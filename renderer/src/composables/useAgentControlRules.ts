/**
 * The store-backed side of the safe-controls rules, shared by AgentControls, the shortcuts and
 * the batch panel: what the rule of renderer/src/lib/controlAvailability.ts says for an agent the
 * stores know, and the confirmation (renderer/src/stores/confirm.ts) named after those agents.
 */
import type { AgentDetails } from '../../../shared/domain/agentDetails';
import { controlAvailability, type AgentControl, type ControlAvailability } from '../lib/controlAvailability';
import { shortId } from '../lib/format';
import { useAgentDetailsStore } from '../stores/agentDetails';
import { useAgentsStore } from '../stores/agents';
import { useConfirmStore, type DestructiveCommand } from '../stores/confirm';
import { useServersStore } from '../stores/servers';

export interface AgentControlRules {
  /** Whether the server is online (unknown servers count as online: nothing to warn about). */
  serverOnline(serverId: string): boolean;
  /**
   * The rule's verdict for one agent of the open server's list (an unknown agent: allowed);
   * `details` defaults to what the details store knows of it.
   */
  availability(
    serverId: string,
    agentId: string,
    command: AgentControl,
    details?: AgentDetails | null,
  ): ControlAvailability;
  /**
   * Asks the operator to confirm `command` on `agentIds` (named from the agents list, short id
   * otherwise). Resolves true to go ahead, false when they cancel.
   */
  confirm(command: DestructiveCommand, agentIds: readonly string[]): Promise<boolean>;
}

/** Call in a component's setup (it uses the stores). */
export function useAgentControlRules(): AgentControlRules {
  const agents = useAgentsStore();
  const agentDetails = useAgentDetailsStore();
  const servers = useServersStore();
  const confirmStore = useConfirmStore();

  const serverOnline = (serverId: string): boolean => {
    const server = servers.byId.get(serverId);
    return server === undefined || server.status.state === 'online';
  };

  return {
    serverOnline,
    availability(serverId, agentId, command, details = agentDetails.get(agentId) ?? null) {
      const row = agents.getRow(agentId);
      return controlAvailability(command, {
        status: row?.status ?? null,
        pauseMode: row?.pauseMode ?? null,
        details,
        serverOnline: serverOnline(serverId),
      });
    },
    confirm(command, agentIds) {
      const targets = agentIds.map((id) => ({ id, name: agents.getRow(id)?.name ?? shortId(id) }));
      return confirmStore.ask({ command, targets });
    },
  };
}
