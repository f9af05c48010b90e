/** Longest accepted filter, in UTF-8 bytes. */
export const MAX_FILTER_BYTES = 1024;

/** Flags a `/pattern/flags` filter may carry; `g` and `y` would make `test()` stateful. */
export const ALLOWED_REGEX_FLAGS = ['i', 'm', 's', 'u'] as const;

/** A filter that is not an acceptable regular expression. Message starts with "invalid regex: ". */
export class InvalidRegexError extends Error {
  override readonly name = 'InvalidRegexError';
  constructor(detail: string) {
    super(`invalid regex: ${detail}`);
  }
}

/**
 * A filter that ran past its time budget (catastrophic backtracking, a huge store) and was
 * stopped. The message names the budget and its config key.
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

/**
 * Compiles an output-query filter.
 *
 * Syntax: either a bare ECMAScript pattern (no flags), e.g. `error|warn`, or the literal form
 * `/pattern/flags` with flags from `i`, `m`, `s`, `u` (a string that starts with `/` and ends
 * with `/` plus letters is always read as the literal form, so `/usr/` means the pattern `usr`).
 * @throws InvalidRegexError when longer than 1 KiB, a flag is not allowed or the pattern is invalid
 */
export function compileFilter(filter: string): RegExp {
  const bytes = Buffer.byteLength(filter, 'utf8');
  if (bytes > MAX_FILTER_BYTES) {
    throw new InvalidRegexError(`the filter is ${bytes} bytes long, at most ${MAX_FILTER_BYTES} are allowed`);
  }
  let pattern = filter;
  let flags = '';
  const literal = /^\/(.*)\/([A-Za-z]*)$/s.exec(filter);
  if (literal && filter.length >= 2) {
    pattern = literal[1] ?? '';
    flags = literal[2] ?? '';
    const seen = new Set<string>();
    for (const flag of flags) {
      if (!(ALLOWED_REGEX_FLAGS as readonly string[]).includes(flag)) {
        throw new InvalidRegexError(
          `flag '${flag}' is not allowed (allowed: ${ALLOWED_REGEX_FLAGS.join(', ')})`,
        );
      }
      if (seen.has(flag)) throw new InvalidRegexError(`flag '${flag}' is repeated`);
      seen.add(flag);
    }
  }
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    throw new InvalidRegexError(error instanceof Error ? error.message : String(error));
  }
}
