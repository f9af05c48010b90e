/**
 * The pragmas that make the command database durable, each read back after it is set (the
 * reasons for each are in sqliteCommandStore.ts's header).
 */
import type { Database, SQLiteValue } from 'node-sqlite3-wasm';
import type { Row } from './commandRow';
import { errorText, QueueError, StoreFailureError } from './queueErrors';

/** Log pages (4 KiB each) after which a commit checkpoints the log into the database file. */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

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
    // A checkpoint copies the log into the database file and fsyncs both; at SQLite's default
    // (1,000 pages) a drain of a fleet, whose settles touch rows all over the table, paid one
    // every few commits and copied the same pages again each time. WAL_AUTOCHECKPOINT_PAGES
    // bounds the -wal file instead (about 40 MiB of 4 KiB pages, plus one transaction).
    db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    const locking = pragma('PRAGMA locking_mode');
    if (locking !== 'exclusive') fail('locking_mode did not become EXCLUSIVE', locking);
    const synchronous = pragma('PRAGMA synchronous');
    if (synchronous !== wanted)
      fail(`synchronous did not become ${wanted === 1 ? 'NORMAL (1)' : 'FULL (2)'}`, synchronous);
    const checkpoint = pragma('PRAGMA wal_autocheckpoint');
    if (checkpoint !== WAL_AUTOCHECKPOINT_PAGES)
      fail(`wal_autocheckpoint did not become ${WAL_AUTOCHECKPOINT_PAGES}`, checkpoint);
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
