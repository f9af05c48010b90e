import type {
  OutputQueryRequest,
  OutputQueryResponse,
  ReplyMessage,
  RequestMessage,
} from '../../shared/protocol';
import { droppedLinesNotice } from '../../shared/domain/droppedLines';
import { runBatch } from './batch';
import type { HandlerContext } from './context';
import { runControl } from './control';
import { runCustomAction } from './customAction';
import { runHealth } from './health';
import { runList } from './list';
import { DEFAULT_QUERY_LIMIT, queryOutput } from './outputQuery';
import { runSpawn } from './spawn';
import { agentNotFound, toCount } from './wire';

async function runOutputQuery(ctx: HandlerContext, req: OutputQueryRequest): Promise<OutputQueryResponse> {
  const base = { type: 'output_query_response', request_id: req.request_id, agent_id: req.agent_id } as const;
  const agent = ctx.supervisor.get(req.agent_id);
  if (!agent) {
    ctx.stats.increment('unknown_agent');
    return {
      ...base,
      success: false,
      lines: [],
      total_lines: null,
      has_more: false,
      error: agentNotFound(req.agent_id),
    };
  }
  const result = await queryOutput(
    ctx,
    agent,
    req.stream,
    req.filter ?? null,
    toCount(req.limit, DEFAULT_QUERY_LIMIT),
    toCount(req.offset, 0),
  );
  return result.ok
    ? {
        ...base,
        success: true,
        lines: result.lines,
        total_lines: result.totalLines,
        has_more: result.hasMore,
        // The wire has no field for it: a success carries the dropped-lines notice in `error`.
        error: result.droppedLines > 0 ? droppedLinesNotice(result.droppedLines) : null,
      }
    : { ...base, success: false, lines: [], total_lines: null, has_more: false, error: result.error };
}

/** Runs one decoded request and returns its reply (docs/PROTOCOL.md §4). May throw on a bug. */
export async function executeRequest(ctx: HandlerContext, req: RequestMessage): Promise<ReplyMessage> {
  switch (req.type) {
    case 'spawn_request':
      return runSpawn(ctx, req);
    case 'control_command':
      return runControl(ctx, req.request_id, req.agent_id, req.command_type, req.payload);
    case 'custom_action_request':
      return runCustomAction(
        ctx,
        req.request_id,
        req.agent_id,
        req.action,
        req.params ?? null,
        req.timeout_secs == null ? null : toCount(req.timeout_secs, 0),
      );
    case 'batch_control_command':
      return runBatch(ctx, req);
    case 'list_agents_request':
      return runList(ctx, req);
    case 'health_check_request':
      return runHealth(ctx, req);
    case 'output_query_request':
      return runOutputQuery(ctx, req);
    default: {
      const never: never = req;
      return never;
    }
  }
}
