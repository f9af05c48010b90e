import vm from 'node:vm';

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

/** A filter that ran past its time budget (catastrophic backtracking, huge store). */
export class RegexTimeoutError extends Error {
  override readonly name = 'RegexTimeoutError';
  constructor(readonly budgetMs: number) {
    super(`regex filter timed out after ${budgetMs} ms (simplify the pattern)`);
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

/** Arguments of one scan: a window over blocks of lines, a stream mask and a regex. */
export interface ScanArgs {
  /** Blocks of lines; `tags[b][i]` is the stream tag of `blocks[b][i]`. */
  readonly blocks: readonly (readonly string[])[];
  readonly tags: readonly Uint8Array[];
  /** Index in `blocks[0]` of the first line to scan. */
  readonly start: number;
  /** How many lines to scan in total, across blocks. */
  readonly count: number;
  /** Bitmask of accepted tags (tag 0 → bit 1, tag 1 → bit 2). */
  readonly mask: number;
  readonly re: RegExp | null;
  /** Matching lines to skip before collecting. */
  readonly offset: number;
  /** Matching lines to collect after the offset. */
  readonly limit: number;
}

export interface ScanResult {
  /** Every matching line in the window. */
  total: number;
  /** The collected lines, oldest first. */
  lines: string[];
}

/**
 * The scan loop. Self-contained on purpose: its source is also evaluated inside the `vm`
 * context, so it must not refer to anything outside its own body.
 */
export function scanLines(a: ScanArgs): ScanResult {
  const lines: string[] = [];
  let total = 0;
  let remaining = a.count;
  let i = a.start;
  const re = a.re;
  const end = a.offset + a.limit;
  for (let b = 0; b < a.blocks.length && remaining > 0; b++) {
    const block = a.blocks[b] as readonly string[];
    const tags = a.tags[b] as Uint8Array;
    const stop = Math.min(block.length, i + remaining);
    remaining -= stop - i;
    for (; i < stop; i++) {
      if (((1 << (tags[i] as number)) & a.mask) === 0) continue;
      const line = block[i] as string;
      if (re !== null && !re.test(line)) continue;
      if (total >= a.offset && total < end) lines.push(line);
      total++;
    }
    i = 0;
  }
  return { total, lines };
}

/**
 * Runs {@link scanLines} with a regex under a time budget. The budget is enforced by `node:vm`
 * (`timeout` interrupts even a backtracking regex). The context and the function in it are
 * made once; each call passes its data as an argument, since global lookups in a contextified
 * object are slow.
 */
export class RegexScanner {
  private readonly context: vm.Context;
  private readonly call: vm.Script;
  private readonly slot: { args: ScanArgs | null };

  constructor() {
    this.slot = { args: null };
    this.context = vm.createContext({ slot: this.slot });
    vm.runInContext(`globalThis.scan = ${scanLines.toString()};`, this.context);
    this.call = new vm.Script('scan(slot.args)');
  }

  /**
   * Scans with the regex; without one it runs the loop directly (linear, no budget needed).
   * @param budgetMs whole-scan time budget in milliseconds
   * @throws RegexTimeoutError when the budget runs out
   */
  scan(args: ScanArgs, budgetMs: number): ScanResult {
    if (args.re === null) return scanLines(args);
    this.slot.args = args;
    try {
      return this.call.runInContext(this.context, {
        timeout: Math.max(1, Math.floor(budgetMs)),
      }) as ScanResult;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
        throw new RegexTimeoutError(budgetMs);
      throw error;
    } finally {
      this.slot.args = null;
    }
  }
}
