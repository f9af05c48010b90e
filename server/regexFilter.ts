/**
 * A filter that ran past its time budget (catastrophic backtracking, a huge store) and was
 * stopped. The message names the budget and its config key. (How a filter is read is
 * `shared/domain/outputFilter`, the one reader the console shares.)
 */
export class RegexTimeoutError extends Error {
  override readonly name = 'RegexTimeoutError';
  /** @param budgetMs the budget that ran out, in milliseconds */
  constructor(readonly budgetMs: number) {
    super(
      `regex filter stopped: it ran past its time budget of ${budgetMs} ms (query_budget_ms); ` +
        'simplify the pattern or narrow the query',
    );
  }
}
