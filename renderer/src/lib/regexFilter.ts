/**
 * Client-side check of an output filter before it is sent (docs/PROTOCOL.md §4.4). The reading
 * itself is `shared/domain/outputFilter`, the server's own, so the regex kept here for the live
 * tail keeps exactly the lines a paged query returns.
 */
import { parseOutputFilter } from '../../../shared/domain/outputFilter';
import { capitalize } from './format';

export type RegexCheck = { ok: true; regex: RegExp | null } | { ok: false; message: string };

/**
 * Validates `pattern` as the server will read it (`error|warn`, or `/error/i` with flags i, m,
 * s, u). An empty pattern means "no filter" (`regex: null`). Never throws: a refused pattern
 * yields a sentence with the reason and what to do.
 */
export function checkRegex(pattern: string): RegexCheck {
  const parsed = parseOutputFilter(pattern);
  if (parsed.ok) return parsed;
  switch (parsed.problem) {
    case 'too_long':
      return {
        ok: false,
        message: `${capitalize(parsed.detail)}; the server refuses longer ones. Shorten it.`,
      };
    case 'flag':
      return { ok: false, message: `In /pattern/flags, ${parsed.detail}. Change the flags.` };
    case 'syntax':
      return {
        ok: false,
        message: `Invalid regular expression: ${parsed.detail}. Fix the pattern (escape special characters such as ( [ . * with \\).`,
      };
  }
}

/** A filter as the views name it. */
function quoted(filter: string): string {
  return `“${filter}”`;
}

/**
 * The line count of a view, naming the filter in force: a filter kept while the field shows
 * other text (a refused pattern, or one typed but not applied) is never hidden from the count.
 * @param count the formatted number of lines
 */
export function lineCountText(count: string, applied: string): string {
  return applied === '' ? `${count} line(s)` : `${count} line(s) matching ${quoted(applied)}`;
}

/** What a refused pattern leaves in force, said after its reason. */
export function filterKeptText(applied: string): string {
  return applied === '' ? 'No filter is applied.' : `Still applied: ${quoted(applied)}.`;
}
