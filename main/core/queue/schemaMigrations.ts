/**
 * The schema of the command database and how an older file is brought up to it. The version
 * lives in SQLite's `user_version`; each migration commits with its bump, so a crash between
 * two leaves a file that the next open continues from.
 */
import type { Database } from 'node-sqlite3-wasm';
import type { Row } from './commandRow';
import { QUARANTINE_SCHEMA } from './quarantineTable';
import { errorText, StoreFailureError } from './queueErrors';

/** Schema migrations; index i upgrades `user_version` i to i + 1. Append only, never edit. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE commands (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     server_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     request BLOB NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     sent_at INTEGER,
     settled_at INTEGER,
     attempts INTEGER NOT NULL,
     expires_at INTEGER,
     outcome TEXT,
     summary TEXT NOT NULL,
     retry_of TEXT
   );
   CREATE INDEX commands_pending ON commands (seq) WHERE state IN ('queued', 'sending');
   CREATE INDEX commands_history ON commands (settled_at, seq) WHERE settled_at IS NOT NULL;`,
  // Per server, the highest seq that may have been handed to the connection by a write-behind
  // send whose mark is not yet written (see CommandStore.setSendFrontier).
  `CREATE TABLE send_frontier (server_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);`,
  // Per server, the dedupe epoch last seen (see CommandStore.setDedupeEpoch).
  `CREATE TABLE server_epochs (server_id TEXT PRIMARY KEY, dedupe_epoch TEXT NOT NULL);`,
  // Commands that could not be read, kept as found; notices about repairs (quarantineTable.ts).
  QUARANTINE_SCHEMA,
  // The few timed-out commands of one server, which a dispatcher looks for each time its server
  // comes back (to resend them): without it each look scanned the whole table, history included.
  // Partial, so a settle (which never touches `timed_out`) pays nothing for it.
  `CREATE INDEX commands_timed_out ON commands (server_id, seq) WHERE state = 'timed_out';`,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Refuses a database written by a newer build: its data may not fit this build's schema, and
 * nothing here (migrations, repairs) may touch it.
 * @throws StoreFailureError naming both versions
 */
export function checkVersion(db: Database, databasePath: string): void {
  const row = db.get('PRAGMA user_version') as Row | null;
  const version = Number(row?.user_version ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new StoreFailureError(
      `The command database "${databasePath}" has schema version ${version}, newer than this build knows (${SCHEMA_VERSION}). ` +
        'Use a newer version of the console, or another data directory.',
    );
  }
}

/**
 * Runs pending migrations, each in its own transaction with its `user_version` bump.
 * @returns the `user_version` found (0 for a new file)
 * @throws StoreFailureError for a newer schema or a migration that fails (rolled back)
 */
export function migrate(db: Database, databasePath: string): number {
  checkVersion(db, databasePath);
  const row = db.get('PRAGMA user_version') as Row | null;
  const from = Number(row?.user_version ?? 0);
  for (let version = from; version < SCHEMA_VERSION; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[version] ?? '');
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new StoreFailureError(
        `Cannot migrate the command database "${databasePath}" to schema ${version + 1}: ${errorText(error)}`,
        { cause: error },
      );
    }
  }
  return from;
}
