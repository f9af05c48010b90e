import type { OutputStream } from '../../shared/protocol';
import type { AgentProcess } from '../agentProcess';
import { STREAM_MASK } from '../lineStore';
import { QueryFailedError, QueryRefusedError } from '../query/queryPool';
import { requiredLiteral } from '../query/requiredLiteral';
import { compileFilter, InvalidRegexError, RegexTimeoutError } from '../regexFilter';
import type { HandlerContext } from './context';

/** Lines returned when the request leaves `limit` out. */
export const DEFAULT_QUERY_LIMIT = 100;
/** Larger limits are clamped to this (`has_more` then tells the client to page on). */
export const MAX_QUERY_LIMIT = 10_000;

export type QueryOutcome =
  | {
      readonly ok: true;
      readonly lines: string[];
      readonly totalLines: number;
      readonly hasMore: boolean;
      /** Lines of the queried stream(s) dropped by the output limits, older than every line kept. */
      readonly droppedLines: number;
    }
  | { readonly ok: false; readonly error: string };

/**
 * Runs a non-destructive output query on an agent's line store (docs/PROTOCOL.md §4.4).
 *
 * Without a filter it reads on the event loop (O(limit), see `LineStore.read`). With one, the
 * stored lines as they are now are scanned in a worker thread of `ctx.queries`, under the
 * `query_budget_ms` run-time budget; a query that finds every worker busy waits, or is refused
 * when `max_waiting_queries` already wait. Counts bad regexes, budget timeouts and refusals in
 * the stats. Never rejects: every failure is an `ok: false` outcome with a clear error.
 * `droppedLines` is what the reply's dropped-lines notice reports (`shared/domain/droppedLines`).
 */
export async function queryOutput(
  ctx: HandlerContext,
  agent: AgentProcess,
  stream: OutputStream,
  filter: string | null,
  limit: number,
  offset: number,
): Promise<QueryOutcome> {
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
  const clamped = Math.min(limit, MAX_QUERY_LIMIT);
  // Read with the lines: whatever is dropped later is newer than this snapshot's oldest line.
  const droppedLines = agent.lines.dropped(stream);
  if (re === null) return { ok: true, ...agent.lines.read(stream, offset, clamped), droppedLines };
  const snapshot = agent.lines.snapshot();
  try {
    const found = await ctx.queries.scan(
      {
        segments: snapshot.views,
        mask: STREAM_MASK[stream],
        source: re.source,
        flags: re.flags,
        literal: requiredLiteral(re.source, re.flags),
        offset,
        limit: clamped,
      },
      ctx.config.queryBudgetMs,
    );
    const lines = snapshot.lines(found.hits);
    return {
      ok: true,
      lines,
      totalLines: found.total,
      hasMore: offset + lines.length < found.total,
      droppedLines,
    };
  } catch (error) {
    if (error instanceof RegexTimeoutError) {
      ctx.stats.increment('regex_timeouts');
      return { ok: false, error: error.message };
    }
    if (error instanceof QueryRefusedError) {
      ctx.stats.increment('queries_refused');
      return { ok: false, error: error.message };
    }
    if (error instanceof QueryFailedError) return { ok: false, error: error.message };
    throw error;
  }
}
