/**
 * The output-query filter (docs/PROTOCOL.md §4.4), read the same way everywhere: by the server
 * that scans its line store, by the renderer that checks a filter before sending it and applies
 * it to live-tail lines, by ctl and by the IPC schemas. One reader, so a filter cannot mean one
 * thing to a paged query and another to the live tail of the same view.
 *
 * Plain data and `RegExp` only: no Node APIs, so the renderer may import it.
 */

/** Longest accepted filter, in UTF-8 bytes. */
export const MAX_FILTER_BYTES = 1024;

/** Flags a `/pattern/flags` filter may carry; `g` and `y` would make `test()` stateful. */
export const ALLOWED_REGEX_FLAGS = ['i', 'm', 's', 'u'] as const;

/** Why a filter was refused: too long, a flag outside {@link ALLOWED_REGEX_FLAGS}, or bad syntax. */
export type FilterProblem = 'too_long' | 'flag' | 'syntax';

/**
 * A read filter: `regex` is null for the empty filter (no filter: every line). A refused one
 * says why (`problem`) and, in `detail`, one clause naming the cause (the engine's own message
 * for bad syntax, without the engine's leading "Invalid regular expression:"), without a leading
 * "invalid regex".
 */
export type OutputFilter =
  | { readonly ok: true; readonly regex: RegExp | null }
  | { readonly ok: false; readonly problem: FilterProblem; readonly detail: string };

const utf8 = new TextEncoder();

/**
 * Reads an output filter. Syntax: either a bare ECMAScript pattern (no flags), e.g.
 * `error|warn`, or the literal form `/pattern/flags` with flags from `i`, `m`, `s`, `u`. A
 * string that starts with `/` and ends with `/` plus letters is always read as the literal
 * form, so `/usr/` means the pattern `usr`. A line matches when `regex.test(line)` is true.
 *
 * Never throws: a filter longer than {@link MAX_FILTER_BYTES}, with a flag not allowed or
 * repeated, or that does not compile, is an `ok: false` result.
 */
export function parseOutputFilter(filter: string): OutputFilter {
  if (filter === '') return { ok: true, regex: null };
  const bytes = utf8.encode(filter).length;
  if (bytes > MAX_FILTER_BYTES) {
    return {
      ok: false,
      problem: 'too_long',
      detail: `the filter is ${bytes} bytes long, at most ${MAX_FILTER_BYTES} are allowed`,
    };
  }
  let pattern = filter;
  let flags = '';
  const literal = /^\/(.*)\/([A-Za-z]*)$/s.exec(filter);
  if (literal) {
    pattern = literal[1] ?? '';
    flags = literal[2] ?? '';
    const flagProblem = checkFlags(flags);
    if (flagProblem !== null) return { ok: false, problem: 'flag', detail: flagProblem };
  }
  try {
    return { ok: true, regex: new RegExp(pattern, flags) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 starts its message with "Invalid regular expression: ", and every caller adds its own
    // lead ("invalid regex: " on the wire): keep only the cause, so nobody says it twice.
    return { ok: false, problem: 'syntax', detail: message.replace(/^invalid regular expression:\s*/i, '') };
  }
}

/**
 * The one-line error a refused filter is reported with, as the server's reply words it
 * (`invalid regex: flag 'g' is not allowed …`); ctl and the IPC schemas say the same.
 */
export function filterErrorText(refused: Extract<OutputFilter, { ok: false }>): string {
  return `invalid regex: ${refused.detail}`;
}

/** The problem with a literal's flags, or null when each is allowed and given once. */
function checkFlags(flags: string): string | null {
  const seen = new Set<string>();
  for (const flag of flags) {
    if (!(ALLOWED_REGEX_FLAGS as readonly string[]).includes(flag)) {
      return `flag '${flag}' is not allowed (allowed: ${ALLOWED_REGEX_FLAGS.join(', ')})`;
    }
    if (seen.has(flag)) return `flag '${flag}' is repeated`;
    seen.add(flag);
  }
  return null;
}
