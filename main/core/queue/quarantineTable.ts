/**
 * The quarantine (commands the queue could not read: kept with the reason, never sent) and the
 * notices table (repairs the operator must learn about), on a node-sqlite3-wasm `Database`.
 * Callers own transactions, durability and error mapping; these functions only run SQL and
 * throw the engine's errors.
 */
import type { Database, SQLiteValue } from 'node-sqlite3-wasm';
import type { QuarantinedCommand, QueueNotice, RawValue } from '../../../shared/domain/quarantine';
import { COLUMNS, COMMAND_COLUMNS } from './commandRow';
import type { Row } from './commandRow';

/**
 * The schema of both tables. The quarantine's command columns have no declared type, so SQLite
 * applies no affinity and keeps every value exactly as it was found; no NOT NULL either, since
 * a NULL where none belongs may be why the row is here. AUTOINCREMENT: an entry number is never
 * reused, so discarding by a number read earlier can never hit a different entry.
 */
export const QUARANTINE_SCHEMA = `CREATE TABLE quarantine (
     entry INTEGER PRIMARY KEY AUTOINCREMENT,
     quarantined_at INTEGER NOT NULL,
     reason TEXT NOT NULL,
     ${COMMAND_COLUMNS.join(', ')}
   );
   CREATE TABLE store_notices (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     created_at INTEGER NOT NULL,
     message TEXT NOT NULL,
     moved_to TEXT
   );`;

/** How many leading bytes of a blob a quarantined entry shows. */
const HEX_PREFIX_BYTES = 32;

/**
 * Moves the row `seq` of `commands` into the quarantine (two statements: run it inside a
 * transaction, or a crash between them leaves the row in both tables).
 * @returns the new entry's number, or null when there is no such row
 */
export function moveToQuarantine(db: Database, seq: number, reason: string, now: number): number | null {
  const { changes, lastInsertRowid } = db.run(
    `INSERT INTO quarantine (quarantined_at, reason, ${COLUMNS}) SELECT ?, ?, ${COLUMNS} FROM commands WHERE seq = ?`,
    [now, reason, seq],
  );
  if (changes === 0) return null;
  db.run('DELETE FROM commands WHERE seq = ?', [seq]);
  return Number(lastInsertRowid);
}

/** Puts a row read from elsewhere (a damaged file being salvaged) in the quarantine, as found. */
export function insertQuarantined(db: Database, row: Row, reason: string, now: number): void {
  db.run(
    `INSERT INTO quarantine (quarantined_at, reason, ${COLUMNS}) VALUES (?, ?, ${COMMAND_COLUMNS.map(() => '?').join(', ')})`,
    [now, reason, ...COMMAND_COLUMNS.map((c) => row[c] ?? null)],
  );
}

/** Every quarantined command, oldest entry first; of one server (by stored server id) when given. */
export function readQuarantined(db: Database, serverId?: string): QuarantinedCommand[] {
  const rows = (
    serverId === undefined
      ? db.all(`SELECT entry, quarantined_at, reason, ${COLUMNS} FROM quarantine ORDER BY entry`)
      : db.all(
          `SELECT entry, quarantined_at, reason, ${COLUMNS} FROM quarantine WHERE server_id = ? ORDER BY entry`,
          [serverId],
        )
  ) as Row[];
  return rows.map(toQuarantined);
}

/**
 * Deletes one quarantined command: by entry number, or by the request id it holds when `key`
 * is not a number.
 * @returns what was deleted, or null when nothing matched
 */
export function deleteQuarantined(db: Database, key: number | string): QuarantinedCommand | null {
  const where = typeof key === 'number' ? 'entry = ?' : 'id = ?';
  const rows = db.all(
    `DELETE FROM quarantine WHERE entry = (SELECT entry FROM quarantine WHERE ${where} ORDER BY entry LIMIT 1) RETURNING entry, quarantined_at, reason, ${COLUMNS}`,
    [key],
  ) as Row[];
  const row = rows[0];
  return row === undefined ? null : toQuarantined(row);
}

/** Records a notice. @returns it, as `readNotices` will list it */
export function addNotice(db: Database, message: string, movedTo: string | null, now: number): QueueNotice {
  const { lastInsertRowid } = db.run(
    'INSERT INTO store_notices (created_at, message, moved_to) VALUES (?, ?, ?)',
    [now, message, movedTo],
  );
  return { id: Number(lastInsertRowid), createdAt: now, message, movedTo };
}

/** Every notice not yet dismissed, oldest first. */
export function readNotices(db: Database): QueueNotice[] {
  return (db.all('SELECT id, created_at, message, moved_to FROM store_notices ORDER BY id') as Row[]).map(
    (row) => ({
      id: Number(row.id),
      createdAt: typeof row.created_at === 'number' ? row.created_at : 0,
      message: typeof row.message === 'string' ? row.message : String(row.message),
      movedTo: typeof row.moved_to === 'string' ? row.moved_to : null,
    }),
  );
}

/** Deletes one notice. @returns false when there is no notice with this id */
export function deleteNotice(db: Database, id: number): boolean {
  return db.run('DELETE FROM store_notices WHERE id = ?', [id]).changes > 0;
}

/** A stored value for display (see `RawValue`). */
export function rawValue(value: SQLiteValue | undefined): RawValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return { integer: value.toString() };
  if (value instanceof Uint8Array) {
    return {
      bytes: value.length,
      hexPrefix: Buffer.from(value.subarray(0, HEX_PREFIX_BYTES)).toString('hex'),
    };
  }
  return value;
}

function toQuarantined(row: Row): QuarantinedCommand {
  const textOf = (column: string): string | null => {
    const v = row[column];
    return typeof v === 'string' ? v : null;
  };
  const intOf = (column: string): number | null => {
    const v = row[column];
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
  };
  const raw: Record<string, RawValue> = {};
  for (const column of COMMAND_COLUMNS) raw[column] = rawValue(row[column]);
  return {
    entry: Number(row.entry),
    reason: textOf('reason') ?? 'unknown',
    quarantinedAt: intOf('quarantined_at') ?? 0,
    id: textOf('id'),
    serverId: textOf('server_id'),
    summary: textOf('summary'),
    state: textOf('state'),
    createdAt: intOf('created_at'),
    attempts: intOf('attempts'),
    raw,
  };
}
