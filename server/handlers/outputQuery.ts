import type { OutputStream } from '../../shared/protocol';
import type { AgentProcess } from '../agentProcess';
import { compileFilter, InvalidRegexError, RegexTimeoutError } from '../regexFilter';
import type { HandlerContext } from './context';

/** Lines returned when the request leaves `limit` out. */
export const DEFAULT_QUERY_LIMIT = 100;
/** Larger limits are clamped to this (`has_more` then tells the client to page on). */
export const MAX_QUERY_LIMIT = 10_000;

export type QueryOutcome =
  | { readonly ok: true; readonly lines: string[]; readonly totalLines: number; readonly hasMore: boolean }
  | { readonly ok: false; readonly error: string };

/**
 * Runs a non-destructive output query on an agent's line store. Counts bad regexes and
 * regex timeouts in the stats.
 */
export function queryOutput(
  ctx: HandlerContext,
  agent: AgentProcess,
  stream: OutputStream,
  filter: string | null,
  limit: number,
  offset: number,
): QueryOutcome {
  let re: RegExp | null = null;
  if (filter !== null && filter !== '') {
    try {
      re = compileFilter(filter);
    } catch (error) {
      ctx.stats.increment('bad_regex');
      return {
        ok: false,
        error: error instanceof InvalidRegexError ? error.message : `invalid regex: ${String(error)}`,
      };
    }
  }
  try {
    const result = agent.lines.query({
      stream,
      filter: re,
      offset,
      limit: Math.min(limit, MAX_QUERY_LIMIT),
      budgetMs: ctx.config.queryBudgetMs,
    });
    return { ok: true, ...result };
  } catch (error) {
    if (error instanceof RegexTimeoutError) {
      ctx.stats.increment('regex_timeouts');
      return { ok: false, error: error.message };
    }
    throw error;
  }
}
