/**
 * Splits a line into the parts an output filter matches and the rest, for highlighting. The
 * filter is read with the server's own reader (`shared/domain/outputFilter.ts`), so what is
 * highlighted is what made the line match. Plain text parts only: the caller renders each as a
 * text node or a span, never as HTML. Shared by the output viewer and the merged fleet log.
 */
import { parseOutputFilter } from '../../../shared/domain/outputFilter';

/** A run of a line's text; `match` is true for a part the filter matched. */
export interface TextPart {
  readonly text: string;
  readonly match: boolean;
}

/** Parts beyond this many are left unsplit (a pathological line must not explode the DOM). */
export const MAX_PARTS = 200;

const globalCopies = new WeakMap<RegExp, RegExp>();

/** The regex an applied filter highlights with, or null for none (empty or invalid filter). */
export function highlightRegex(filter: string): RegExp | null {
  const parsed = parseOutputFilter(filter);
  return parsed.ok ? parsed.regex : null;
}

/**
 * `text` cut into matched and unmatched parts, in order, joining back to `text`. With no
 * regex (or no match) one unmatched part. Empty matches (e.g. `^`) mark nothing. Never throws.
 */
export function highlightMatches(text: string, regex: RegExp | null): TextPart[] {
  if (regex === null || text === '') return [{ text, match: false }];
  let re = globalCopies.get(regex);
  if (!re) {
    re = new RegExp(regex.source, `${regex.flags.replace(/[gy]/g, '')}g`);
    globalCopies.set(regex, re);
  }
  re.lastIndex = 0;
  const parts: TextPart[] = [];
  let at = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0] === '') {
      re.lastIndex++; // an empty match would never advance
      if (re.lastIndex > text.length) break;
      continue;
    }
    if (parts.length >= MAX_PARTS - 2) break;
    if (m.index > at) parts.push({ text: text.slice(at, m.index), match: false });
    parts.push({ text: m[0], match: true });
    at = m.index + m[0].length;
  }
  if (at < text.length || parts.length === 0) parts.push({ text: text.slice(at), match: false });
  return parts;
}
