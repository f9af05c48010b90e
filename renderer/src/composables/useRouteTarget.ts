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

type Missing = Extract<RouteTarget, { kind: 'missing' }>;

const TO_SERVERS = { label: '← All servers', to: { name: 'servers' } } as const;

function missing(title: string, detail: string, back: Missing['back']): Missing {
  return { kind: 'missing', title, detail, back };
}

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
    if (badServer !== null) return missing('Not a server link', `“${sid}”: ${badServer}.`, TO_SERVERS);
    const server = servers.byId.get(sid);
    if (server === undefined) {
      if (!servers.loaded || servers.loading) return { kind: 'waiting', text: 'Loading the servers…' };
      const why = servers.error === null ? 'It may have been removed.' : servers.error;
      return missing('Server not found', `No server has the id ${sid}. ${why}`, TO_SERVERS);
    }
    const aid = ui.agentId;
    if (aid === null) return { kind: 'ready' };
    const toAgents = {
      label: `← Agents of ${server.profile.name}`,
      to: { name: 'agents', params: { serverId: sid } },
    };
    const badAgent = invalidIdReason('agent', aid);
    if (badAgent !== null) return missing('Not an agent link', `“${aid}”: ${badAgent}.`, toAgents);
    const listed = agents.serverId === sid && !agents.loading && agents.error === null;
    if (listed && agents.getRow(aid) === undefined)
      return missing(
        'Agent not found',
        `${server.profile.name} lists no agent with the id ${aid}. It may have been removed.`,
        toAgents,
      );
    return { kind: 'ready' };
  });
}
