import type {
  BatchAgentResult,
  BatchControlCommand,
  BatchControlResponse,
  CommandResponse,
} from '../../shared/protocol';
import type { HandlerContext } from './context';
import { runControl } from './control';

/** Agents acted on at once when `fail_fast` is false. */
export const BATCH_CONCURRENCY = 8;

function toResult(reply: CommandResponse): BatchAgentResult {
  return {
    agent_id: reply.agent_id,
    success: reply.success,
    status: reply.status ?? null,
    error: reply.error ?? null,
  };
}

/**
 * Runs a batch: with `fail_fast`, agents one at a time in the given order, stopping at the
 * first failure (results list only the agents tried); otherwise every agent with at most
 * {@link BATCH_CONCURRENCY} at once, results in `agent_ids` order. A repeated id is acted on
 * once (first position kept); an empty list succeeds with no results.
 * @param runOne runs the command for one agent; `subId` distinguishes the sub-requests
 */
export async function runBatch(
  ctx: HandlerContext,
  req: BatchControlCommand,
  runOne: (agentId: string) => Promise<CommandResponse> = (agentId) =>
    runControl(ctx, req.request_id, agentId, req.command_type, req.payload),
): Promise<BatchControlResponse> {
  const ids = [...new Set(req.agent_ids)];
  const results: BatchAgentResult[] = [];
  if (req.fail_fast) {
    for (const id of ids) {
      const result = toResult(await runOne(id));
      results.push(result);
      if (!result.success) break;
    }
  } else {
    const slots = new Array<BatchAgentResult | undefined>(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const i = next++;
        slots[i] = toResult(await runOne(ids[i] ?? ''));
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, ids.length) }, worker));
    for (const r of slots) if (r) results.push(r);
  }
  const successful = results.filter((r) => r.success).length;
  const failed = results.length - successful;
  return {
    type: 'batch_control_response',
    request_id: req.request_id,
    success: failed === 0 && results.length === ids.length,
    results,
    successful,
    failed,
  };
}
