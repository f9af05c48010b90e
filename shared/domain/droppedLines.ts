/**
 * How an output query says that older lines were dropped (our extension, docs/PROTOCOL.md §4.4).
 *
 * `output_query_response` is positional and Rust peers decode exactly its 8 fields, so no field
 * can be added. A successful reply (`success: true`) carries the notice in `error` instead,
 * whenever lines of the queried stream(s) were dropped by the server's output limits (an
 * agent's `line_store.max_lines` / `max_bytes`, or the server-wide `line_store.total_bytes`):
 *
 *     notice: 1234 earlier lines dropped (output limits)
 *
 * `error` of a successful reply is never anything else. Rust 1.0.0 clients ignore `error` when
 * `success` is true; our console shows "1,234 earlier lines dropped". The count is of the
 * selected stream(s) (`stdout`, `stderr` or `both`), whatever the filter: dropped lines were
 * never searched. Lines kept are numbered from the oldest kept (offset 0), as before.
 */

/** Start of every dropped-lines notice. */
export const DROPPED_LINES_PREFIX = 'notice: ';

const NOTICE = /^notice: (\d+) earlier lines? dropped \(output limits\)$/;

/**
 * The notice for `count` dropped lines (count ≥ 1), e.g. `notice: 1 earlier line dropped (output limits)`.
 * @throws RangeError when count is not a positive safe integer
 */
export function droppedLinesNotice(count: number): string {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`dropped line count must be a positive integer, got ${count}`);
  }
  return `${DROPPED_LINES_PREFIX}${count} earlier ${count === 1 ? 'line' : 'lines'} dropped (output limits)`;
}

/**
 * The dropped-line count in a successful reply's `error`, or 0 when it carries no notice (absent,
 * or a server that does not send one).
 */
export function parseDroppedLinesNotice(error: string | null | undefined): number {
  if (error == null) return 0;
  const m = NOTICE.exec(error);
  if (!m) return 0;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : 0;
}
