/**
 * The pragmas that make the command database durable, each read back after it is set (the
 * reasons for each are in sqliteCommandStore.ts's header).
 */
import type { Database, SQLiteValue } from 'node-sqlite3-wasm';
import type { Row } from './commandRow';
import { errorText, QueueError, StoreFailureError } from './queueErrors';

/** Page size, bytes, of a database this build creates. */
export const PAGE_SIZE = 2048;

/**
 * Sets and reads back each durability pragma; returns the journal mode in effect (`wal`, or
 * `delete` when the engine refuses WAL).
 * @throws StoreFailureError when a pragma does not take or the engine fails
 */
export function configureDurability(db: Database, databasePath: string): string {
  const pragma = (sql: string): SQLiteValue | undefined => {
    const row = db.get(sql) as Row | null;
    return row === null ? undefined : Object.values(row)[0];
  };
  const fail = (what: string, got: SQLiteValue | undefined): never => {
    throw new StoreFailureError(
      `Cannot make the command database "${databasePath}" durable: ${what} (got ${String(got)}).`,
    );
  };
  try {
    // A new file only (an existing database keeps its size): an enqueue's commit writes three
    // pages (row, id index, pending index), and three 2 KiB WAL frames made a lone enqueue's
    // commit + fdatasync 1.2x one bare record's here, where 4 KiB frames made it 1.5x.
    db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
    // Must come before the first read, or SQLite would look for shared memory the VFS lacks.
    pragma('PRAGMA locking_mode = EXCLUSIVE');
    let journal = pragma('PRAGMA journal_mode = WAL');
    if (journal !== 'wal') {
      // The most durable mode without WAL: a rollback journal, fsync'd with synchronous=FULL.
      journal = pragma('PRAGMA journal_mode = DELETE');
      if (journal !== 'delete') fail('journal_mode is neither WAL nor DELETE', journal);
    }
    // WAL: the store fsyncs the log itself after each durable commit (see sqliteCommandStore.ts's header).
    const wanted = journal === 'wal' ? 1 : 2;
    db.exec(`PRAGMA synchronous = ${wanted === 1 ? 'NORMAL' : 'FULL'}`);
    // 8 MiB of page cache (default 2 MiB): a drain of thousands of commands re-reads evicted pages otherwise.
    db.exec('PRAGMA cache_size = -8192');
    const locking = pragma('PRAGMA locking_mode');
    if (locking !== 'exclusive') fail('locking_mode did not become EXCLUSIVE', locking);
    const synchronous = pragma('PRAGMA synchronous');
    if (synchronous !== wanted)
      fail(`synchronous did not become ${wanted === 1 ? 'NORMAL (1)' : 'FULL (2)'}`, synchronous);
    const mode = pragma('PRAGMA journal_mode');
    if (mode !== journal) fail(`journal_mode did not stay ${String(journal)}`, mode);
    return String(journal);
  } catch (error) {
    if (error instanceof QueueError) throw error;
    throw new StoreFailureError(
      `Cannot configure the command database "${databasePath}": ${errorText(error)}`,
      {
        cause: error,
      },
    );
  }
}
