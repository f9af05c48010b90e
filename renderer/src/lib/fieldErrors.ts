/** Maps schema issues onto form fields, so each message shows next to the field it is about. */
import type { z } from 'zod';

/**
 * `{ 'config.name': 'name is required', … }`: the first message per path (dot-joined), with
 * `prefix` removed from paths that start with it.
 */
export function fieldErrors(
  error: z.ZodError,
  prefix: readonly (string | number)[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    let path = issue.path.map((p) => String(p));
    if (prefix.every((p, i) => path[i] === String(p))) path = path.slice(prefix.length);
    const key = path.length > 0 ? path.join('.') : '_';
    // A record key that fails its schema carries the useful message one level down.
    const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
    out[key] ??= inner ?? issue.message;
  }
  return out;
}
