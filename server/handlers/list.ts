import type { ListAgentsRequest, ListAgentsResponse } from '../../shared/protocol';
import type { HandlerContext } from './context';
import { toCount } from './wire';

/** Lists agents (oldest first, exited ones included): filter by status, then `limit`. */
export function runList(ctx: HandlerContext, req: ListAgentsRequest): ListAgentsResponse {
  let agents = ctx.supervisor.list().map((a) => a.info());
  if (req.filter_status != null) agents = agents.filter((a) => a.status === req.filter_status);
  const limit = toCount(req.limit, agents.length);
  return {
    type: 'list_agents_response',
    request_id: req.request_id,
    success: true,
    agents: agents.slice(0, limit),
    error: null,
  };
}
