/**
 * Reads every row of `commands` that can still be read from a damaged database, in `seq` order.
 *
 * A plain scan stops at the first damaged page and loses everything after it. Here a scan that
 * fails is resumed past the damage: if the failing row's key can still be read (its leaf page is
 * fine, its payload is not), that one row is reported with whatever columns read, and the scan
 * goes on after it; if not, the next readable key is searched for (doubling the distance, then
 * bisecting back), and the stretch in between is reported as lost.
 */
import type { Database, SQLiteValue, Statement } from 'node-sqlite3-wasm';
import { COLUMNS, COMMAND_COLUMNS } from './commandRow';
import type { Row } from './commandRow';
import { finalizeQuietly } from './preparedStatement';
import { errorText } from './queueErrors';

export interface SalvageSink {
  /** A row read in full. */
  row(row: Row): void;
  /** A row whose key (and maybe some columns) could be read but not the rest. */
  partial(row: Row, error: string): void;
  /** Rows with `seq` above `after` and below `before` (null: to the end) could not be read. */
  lost(after: number, before: number | null, error: string): void;
}

/** Everything but the request, which is the column most likely to live on overflow pages. */
const WITHOUT_REQUEST = COMMAND_COLUMNS.filter((c) => c !== 'request').join(', ');

/**
 * Feeds `sink` every readable row of `commands` in `src`.
 * @throws the engine's error when not even the table can be found (the schema is unreadable)
 */
export function salvageCommandRows(src: Database, sink: SalvageSink): void {
  // Rowids the store assigns start at 1; moved commands get max + 1.
  let after = 0;
  for (;;) {
    const failure = scanFrom(src, after + 1, (row) => {
      sink.row(row);
      after = row.seq as number;
    });
    if (failure === null) return;
    const next = firstSeqFrom(src, after + 1);
    if (next === null) {
      // The search finds nothing after the failure point: all that failed lies at the end.
      sink.lost(after, null, failure);
      return;
    }
    if (next !== 'unreadable') {
      // The key is there: read that one row by itself, in full if it still reads.
      const whole = readRow(src, next);
      if (whole === null) sink.partial(readWhatCan(src, next), failure);
      else sink.row(whole);
      after = next;
      continue;
    }
    const resume = nextReadable(src, after);
    sink.lost(after, resume, failure);
    if (resume === null) return;
    after = resume - 1;
  }
}

/**
 * Scans rows with `seq >= from` in order (>=, not > from - 1: seeking past a key descends into
 * the page that holds it, which may be the damaged one). Errors of `onRow` propagate.
 * @returns null at the end, or the engine's error that stopped the scan
 */
function scanFrom(src: Database, from: number, onRow: (row: Row) => void): string | null {
  let stmt: Statement | null = null;
  try {
    let rows: Iterator<Row>;
    try {
      stmt = src.prepare(`SELECT ${COLUMNS} FROM commands WHERE seq >= ? ORDER BY seq`);
      rows = (stmt.iterate([from]) as Iterable<Row>)[Symbol.iterator]();
    } catch (error) {
      return errorText(error);
    }
    for (;;) {
      let next: IteratorResult<Row>;
      try {
        next = rows.next();
      } catch (error) {
        return errorText(error);
      }
      if (next.done === true) return null;
      onRow(next.value);
    }
  } finally {
    finalizeQuietly(stmt);
  }
}

/** Row `seq` in full, or null when it does not read. */
function readRow(src: Database, seq: number): Row | null {
  try {
    return src.get(`SELECT ${COLUMNS} FROM commands WHERE seq = ?`, [seq]) as Row | null;
  } catch {
    return null;
  }
}

/** The smallest `seq` at or above `from`; null when none; 'unreadable' when the search itself fails. */
function firstSeqFrom(src: Database, from: number): number | null | 'unreadable' {
  try {
    const row = src.get('SELECT seq FROM commands WHERE seq >= ? ORDER BY seq LIMIT 1', [from]) as Row | null;
    const seq: SQLiteValue | undefined = row?.seq;
    return typeof seq === 'number' ? seq : null;
  } catch {
    return 'unreadable';
  }
}

/**
 * The first seq after a damaged stretch that starts above `after`, or null when nothing after
 * it can be read. Doubles the distance until a search succeeds, then bisects back to the
 * nearest point from which it does, so at most a page's worth of rows near the damage is lost
 * on top of the damaged page itself.
 */
function nextReadable(src: Database, after: number): number | null {
  let bad = after + 1;
  let step = 1;
  // Find a point a search succeeds from, doubling the distance.
  for (;;) {
    if (bad + step > Number.MAX_SAFE_INTEGER) return null;
    if (firstSeqFrom(src, bad + step) !== 'unreadable') break;
    bad += step;
    step *= 2;
  }
  // Bisect back; invariant: a search from `bad` fails, from `good` succeeds.
  let good = bad + step;
  while (good - bad > 1) {
    const mid: number = bad + Math.floor((good - bad) / 2);
    if (firstSeqFrom(src, mid) === 'unreadable') bad = mid;
    else good = mid;
  }
  const found = firstSeqFrom(src, good);
  return found === 'unreadable' ? null : found;
}

/** Row `seq` with as many columns as still read: all but the request, else the key alone. */
function readWhatCan(src: Database, seq: number): Row {
  for (const columns of [WITHOUT_REQUEST, 'seq, id, server_id, state']) {
    try {
      const row = src.get(`SELECT ${columns} FROM commands WHERE seq = ?`, [seq]) as Row | null;
      if (row !== null) return row;
    } catch {
      // Try fewer columns.
    }
  }
  return { seq };
}
