/** Client-side check of an output filter before it is sent (ECMAScript, ≤ 1 KiB; docs/PROTOCOL.md §4.4). */

/** Longest filter the server accepts, in UTF-8 bytes. */
export const MAX_FILTER_BYTES = 1024;

export type RegexCheck = { ok: true; regex: RegExp | null } | { ok: false; message: string };

/**
 * Validates `pattern` as the server will read it. An empty pattern means "no filter"
 * (`regex: null`). Never throws: an invalid pattern yields the engine's message.
 */
export function checkRegex(pattern: string): RegexCheck {
  if (pattern === '') return { ok: true, regex: null };
  const bytes = new TextEncoder().encode(pattern).length;
  if (bytes > MAX_FILTER_BYTES) {
    return {
      ok: false,
      message: `The filter is ${bytes} bytes; the server accepts at most ${MAX_FILTER_BYTES}. Shorten it.`,
    };
  }
  try {
    return { ok: true, regex: new RegExp(pattern) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `Invalid regular expression: ${detail}. Fix the pattern (escape special characters such as ( [ . * with \\).`,
    };
  }
}
