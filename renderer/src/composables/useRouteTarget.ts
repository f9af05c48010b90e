/**
 * Whether the server and agent a URL names exist, so a deep link or a reload shows the view, a
 * wait while the lists load, or a clear "not found" with a way back; never a blank page.
 */
import { computed, type ComputedRef } from 'vue';
import type { RouteLocationRaw } from 'vue-router';
import { invalidIdReason } from '../router';
import { useAgentsStore } from '../stores/agents';
import { useServersStore } from '../stores/servers';
import { useUiStore } from '../stores/ui';

/** What the routed view area shows. */
export type RouteTarget =
  | { readonly kind: 'ready' }
  | { readonly kind: 'waiting'; readonly text: string }
  | {
      readonly kind: 'missing';
      readonly title: string;
      readonly detail: string;
      readonly back: { readonly label: string; readonly to: RouteLocationRaw };
    };

const TO_SERVERS = { label: '← All servers', to: { name: 'servers' } } as const;

/**
 * The state of the current route's target. An agent counts as missing only once its server's
 * list has loaded without error; until then the agent view shows (it says the list is loading).
 */
export function useRouteTarget(): ComputedRef<RouteTarget> {
  const ui = useUiStore();
  const servers = useServersStore();
  const agents = useAgentsStore();
  return computed<RouteTarget>(() => {
    const sid = ui.serverId;
    if (sid === null) return { kind: 'ready' };
    const badServer = invalidIdReason('server', sid);
    if (badServer !== null)
      return { kind: 'missing', title: 'Not a server link', detail: `“${sid}”: ${badServer}.`, back: TO_SERVERS };
    const server = servers.byId.get(sid);
    if (server === undefined) {
      if (!servers.loaded || servers.loading) return { kind: 'waiting', text: 'Loading the servers…' };
      const why = servers.error === null ? 'It may have been removed.' : servers.error;
      return { kind: 'missing', title: 'Server not found', detail: `No server has the id ${sid}. ${why}`, back: TO_SERVERS };
    }
    const aid = ui.agentId;
    if (aid === null) return { kind: 'ready' };
    const toAgents = { label: `← Agents of ${server.profile.name}`, to: { name: 'agents', params: { serverId: sid } } };
    const badAgent = invalidIdReason('agent', aid);
    if (badAgent !== null)
      return { kind: 'missing', title: 'Not an agent link', detail: `“${aid}”: ${badAgent}.`, back: toAgents };
    const listed = agents.serverId === sid && !agents.loading && agents.error === null;
    if (listed && agents.getRow(aid) === undefined)
      return {
        kind: 'missing',
        title: 'Agent not found',
        detail: `${server.profile.name} lists no agent with the id ${aid}. It may have been removed.`,
        back: toAgents,
      };
    return { kind: 'ready' };
  });
}
