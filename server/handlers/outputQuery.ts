import type { OutputStream } from '../../shared/protocol';
import type { AgentProcess } from '../agentProcess';
import { STREAM_MASK, type LineStream } from '../lineStore';
import { QueryFailedError, QueryRefusedError } from '../query/queryPool';
import { requiredLiteral } from '../query/requiredLiteral';
import { filterErrorText, parseOutputFilter } from '../../shared/domain/outputFilter';
import { RegexTimeoutError } from '../regexFilter';
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
      /**
       * Original number of each line (1-based, dropped lines counted in, so stable as older
       * lines are dropped): among all lines for `both`, among that stream's lines otherwise.
       */
      readonly lineNumbers: number[];
      /** Stream of each line. */
      readonly streams: LineStream[];
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
  const parsed = parseOutputFilter(filter ?? '');
  if (!parsed.ok) {
    ctx.stats.increment('bad_regex');
    return { ok: false, error: filterErrorText(parsed) };
  }
  const re = parsed.regex;
  const clamped = Math.min(limit, MAX_QUERY_LIMIT);
  // Read with the lines: whatever is dropped later is newer than this snapshot's oldest line.
  const droppedLines = agent.lines.dropped(stream);
  if (re === null) {
    const read = agent.lines.read(stream, offset, clamped);
    return {
      ok: true,
      lines: read.lines,
      totalLines: read.totalLines,
      hasMore: read.hasMore,
      droppedLines,
      // Read in the same turn as the drop count, so offset k is line droppedLines + k + 1.
      lineNumbers: read.lines.map((_, k) => droppedLines + offset + k + 1),
      streams:
        stream === 'both' ? agent.lines.streamsAt(offset, read.lines.length) : read.lines.map(() => stream),
    };
  }
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
    const numbered = snapshot.numbers(found.hits, stream);
    return {
      ok: true,
      lines,
      totalLines: found.total,
      hasMore: offset + lines.length < found.total,
      droppedLines,
      lineNumbers: numbered.numbers,
      streams: numbered.streams,
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
