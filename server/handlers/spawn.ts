import type { SpawnRequest, SpawnResponse } from '../../shared/protocol';
import type { HandlerContext } from './context';

/** Starts an agent; `success: false` with an error naming the backend/executable on failure. */
export async function runSpawn(ctx: HandlerContext, req: SpawnRequest): Promise<SpawnResponse> {
  const result = await ctx.supervisor.spawn(req.config);
  return result.ok
    ? {
        type: 'spawn_response',
        request_id: req.request_id,
        success: true,
        agent_info: result.agent.info(),
        error: null,
        server_id: ctx.serverId,
      }
    : {
        type: 'spawn_response',
        request_id: req.request_id,
        success: false,
        agent_info: null,
        error: result.error,
        server_id: ctx.serverId,
      };
}
