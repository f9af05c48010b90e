/** j/k over a table's shown rows: where the row cursor goes next. */

/**
 * The index `delta` rows from `current` in `ids` (the rows as shown), kept inside the list; from
 * no row (or one no longer shown) j starts at the first row and k at the last. Null for no rows.
 */
export function stepRow(ids: readonly string[], current: string | null, delta: number): number | null {
  if (ids.length === 0) return null;
  const at = current === null ? -1 : ids.indexOf(current);
  if (at < 0) return delta > 0 ? 0 : ids.length - 1;
  return Math.min(ids.length - 1, Math.max(0, at + delta));
}
