/**
 * The rows of `rows`, those of `previous` (a table's last shown order) first and in that order,
 * then the rest in map order. A table re-sorted on every status batch sorts this instead of
 * map order: the array sort is a merge sort that finds runs already in order, so rows that
 * kept their place cost about one comparison each instead of log2(n) (10,000 agents: about
 * 10,000 comparisons instead of 130,000, every frame of a status flood). A row object that was
 * replaced in `rows` counts as new (it may have changed any field).
 */
export function inPreviousOrder<R extends { readonly id: string }>(
  rows: ReadonlyMap<string, R>,
  previous: readonly R[],
): R[] {
  const out: R[] = [];
  for (const row of previous) if (rows.get(row.id) === row) out.push(row);
  if (out.length === rows.size) return out;
  const placed = new Set(out);
  for (const row of rows.values()) if (!placed.has(row)) out.push(row);
  return out;
}
