/** Shorter literals are not worth a byte search before the regex. */
const MIN_LITERAL = 3;

/** A `{n}`, `{n,}` or `{n,m}` quantifier at the start of `s`. */
const BRACE_QUANTIFIER = /^\{\d+(,\d*)?\}/;

/**
 * The longest run of ASCII text that every match of the pattern contains, or null when none
 * (of at least 3 characters) can be told for sure. A regex scan then only tests lines that
 * contain it (a fast byte search over a whole segment), which is exact: a line without the
 * literal cannot match.
 *
 * Deliberately conservative: only literal characters at the top level of the pattern count
 * (never inside a group, class or lookaround), a character made optional by `?`, `*` or `{…}`
 * is left out, an alternation `|` at the top level or the `i` flag gives null, and escapes other
 * than an escaped punctuation character end a run.
 */
export function requiredLiteral(source: string, flags: string): string | null {
  if (flags.includes('i')) return null;
  const runs: string[] = [];
  let run = '';
  const end = (): void => {
    if (run.length > 0) runs.push(run);
    run = '';
  };
  let i = 0;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === '|') return null;
    if (c === '(') {
      end();
      i = skipGroup(source, i);
      continue;
    }
    if (c === '[') {
      end();
      i = skipClass(source, i);
      continue;
    }
    if (c === '?' || c === '*') {
      // The previous character may be absent in a match.
      run = run.slice(0, -1);
      end();
      i++;
      continue;
    }
    if (c === '+') {
      end();
      i++;
      continue;
    }
    if (c === '{') {
      const q = BRACE_QUANTIFIER.exec(source.slice(i));
      run = run.slice(0, -1);
      end();
      i += q ? q[0].length : 1;
      continue;
    }
    if (c === '\\') {
      const next = source.charAt(i + 1);
      if (next !== '' && /[!-/:-@[-`{-~]/.test(next)) {
        run += next;
        i += 2;
      } else {
        // A class (\d), an assertion (\b), a back reference (\1, \k<n>) or a code (\x41,
        // \u{1F600}, \p{L}, \cA): not literal text; its tail goes with it, so that e.g. the
        // "41" of \x41 is never taken for text.
        end();
        i = skipEscape(source, i);
      }
      continue;
    }
    if (
      c === '.' ||
      c === '^' ||
      c === '$' ||
      c === ')' ||
      c === ']' ||
      c === '}' ||
      c.charCodeAt(0) > 0x7e
    ) {
      end();
      i++;
      continue;
    }
    if (c.charCodeAt(0) < 0x20) {
      end();
      i++;
      continue;
    }
    run += c;
    i++;
  }
  end();
  let best: string | null = null;
  for (const r of runs) if (r.length >= MIN_LITERAL && (best === null || r.length > best.length)) best = r;
  return best;
}

/** Index after the group that opens at `start` (nested groups, classes and escapes skipped). */
function skipGroup(source: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === '\\') i += 2;
    else if (c === '[') i = skipClass(source, i);
    else {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
      i++;
    }
  }
  return source.length;
}

/** Index after the character class that opens at `start`. */
function skipClass(source: string, start: number): number {
  let i = start + 1;
  while (i < source.length) {
    const c = source.charAt(i);
    if (c === '\\') i += 2;
    else if (c === ']') return i + 1;
    else i++;
  }
  return source.length;
}

/** Index after the letter or digit escape at `start` (a backslash), with its tail. */
function skipEscape(source: string, start: number): number {
  const kind = source.charAt(start + 1);
  let i = start + 2;
  const take = (re: RegExp, most: number): void => {
    for (let n = 0; n < most && re.test(source.charAt(i)); n++) i++;
  };
  const bracketed = (open: string, close: string): void => {
    if (source.charAt(i) !== open) return;
    const at = source.indexOf(close, i);
    i = at === -1 ? source.length : at + 1;
  };
  if (kind === 'x') take(/[0-9A-Fa-f]/, 2);
  else if (kind === 'u') {
    if (source.charAt(i) === '{') bracketed('{', '}');
    else take(/[0-9A-Fa-f]/, 4);
  } else if (kind === 'p' || kind === 'P') bracketed('{', '}');
  else if (kind === 'k') bracketed('<', '>');
  else if (kind === 'c') take(/[A-Za-z]/, 1);
  else if (/[0-9]/.test(kind)) take(/[0-9]/, Infinity);
  return i;
}
