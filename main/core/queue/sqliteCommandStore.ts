/**
 * `CommandStore` on SQLite through node-sqlite3-wasm (docs/ARCHITECTURE.md §3.6).
 *
 * Durability settings, each read back after it is set:
 * - `locking_mode=EXCLUSIVE`: we are the only user of the file, and it is what lets WAL work at
 *   all here (the package's VFS has no shared memory, so SQLite keeps the WAL index in heap
 *   memory, which it only does in exclusive mode);
 * - `journal_mode=WAL`: one sequential append + one fsync per commit;
 * - `synchronous=NORMAL`, and the store fsyncs the log itself after every durable commit, so a
 *   returned write survives a crash, kill -9 or power loss (checked under strace: an fsync of
 *   the -wal file after the commit's last log write, before the call returns). It is the fsync
 *   `synchronous=FULL` would make, without FULL's padding: this package's VFS does not claim
 *   powersafe overwrite, so FULL rewrites the commit frame up to the next 512-byte boundary,
 *   one extra 4 KiB frame per commit. SQLite's native Unix VFS assumes powersafe overwrite and
 *   does not pad either, and the padding protected little here: the page cache writes whole
 *   4 KiB pages, so the next commit shared the synced commit's page all the same. Without WAL
 *   the store keeps `synchronous=FULL`.
 *
 * Every single-statement write runs in autocommit mode (one implicit transaction, no extra
 * BEGIN/COMMIT round trips); multi-row changes go through `transaction()`. The exception is a
 * batched insert (an enqueue, docs/ARCHITECTURE.md §3.8): the rows of one burst share one
 * transaction, so the table and index pages are written to the log once per burst rather than
 * once per row. The batch stays open only until `sync()` or the next other write, which commit
 * it first (`beginWrite`, the one place that rule lives); when that commit fails, the batch's
 * rows are gone and the `onBatchLost` listener is told which.
 *
 * Whatever the disk holds, the store opens: a file that is no usable database is rebuilt
 * (openCommandDatabase.ts), an older schema is migrated (schemaMigrations.ts), and a row that
 * cannot be read goes to the quarantine table with the reason (commandRow.ts says what "read"
 * means) instead of failing the open or the read that met it; the rest of the queue works on.
 * The fsync bookkeeping is logSync.ts's; the pragmas are set by durabilityPragmas.ts.
 */
import { mkdirSync, rmdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Database, SQLiteValue } from 'node-sqlite3-wasm';
import { COMMAND_STATES, type QueuedCommand } from '../../../shared/domain/command';
import type { QuarantinedCommand, QueueNotice } from '../../../shared/domain/quarantine';
import { MAX_MESSAGE_BYTES } from '../../../shared/protocol';
import { COLUMNS, UnreadableRowError, UNREADABLE_ROWS_SQL, decodeCommandRow } from './commandRow';
import type { Row } from './commandRow';
import { withPatch } from './commandStore';
import type {
  BatchLostListener,
  CommandPatch,
  CommandStore,
  HistoryQuery,
  InsertOptions,
  ListQuery,
  NewCommand,
  StoreRepairs,
} from './commandStore';
import { syncDirectory } from './databaseFiles';
import { isDiskFull } from './diskFull';
import { configureDurability } from './durabilityPragmas';
import { LogSync } from './logSync';
import { openCommandDatabase } from './openCommandDatabase';
import { acquireOwnerLock } from './ownerLock';
import type { OwnerLock } from './ownerLock';
import { PreparedStatement } from './preparedStatement';
import {
  deleteNotice,
  deleteQuarantined,
  moveToQuarantine,
  readNotices,
  readQuarantined,
} from './quarantineTable';
import {
  CommandNotFoundError,
  DiskFullError,
  DuplicateCommandError,
  errorText,
  InvalidCommandError,
  QuarantineEntryNotFoundError,
  QueueClosedError,
  QueueError,
  StoreFailureError,
} from './queueErrors';
import { wireRequestCodec } from './requestCodec';
import type { RequestCodec } from './requestCodec';
import { checkVersion, migrate } from './schemaMigrations';
import { isErrno } from '../../../shared/node/isErrno';

/** The database file's name inside the data directory. */
export const DATABASE_FILE = 'commands.sqlite';

export interface SqliteCommandStoreOptions {
  /** Request serialisation; the wire codec unless a test needs otherwise. */
  readonly codec?: RequestCodec;
}

/** What `open` found and set, for logs and tests. */
export interface SqliteStoreInfo {
  readonly databasePath: string;
  /** `wal`, or the rollback-journal mode used when the engine refused WAL. */
  readonly journalMode: string;
  /** A lock left by a killed owner (owner.lock and/or `<db>.lock`) was removed at open. */
  readonly recoveredStaleLock: boolean;
  /** `user_version` before migrations ran (0 for a new file). */
  readonly migratedFrom: number;
  /** Where unusable database files found at open were moved (empty when none were). */
  readonly movedAside: readonly string[];
}

/** The open transaction of batched inserts. */
interface OpenBatch {
  /** The seq of its first row (null until one is inserted): every row from it on is in the batch. */
  firstSeq: number | null;
  rows: number;
}

export class SqliteCommandStore implements CommandStore {
  private closed = false;
  private readonly logSync: LogSync;
  private readonly insertStmt: PreparedStatement;
  private readonly updateStmt: PreparedStatement;
  private readonly updatePlainStmt: PreparedStatement;
  private readonly beginStmt: PreparedStatement;
  private readonly frontierUpsertStmt: PreparedStatement;
  private readonly frontierDeleteStmt: PreparedStatement;
  private readonly commitStmt: PreparedStatement;
  private readonly updateToEndStmt: PreparedStatement;
  private readonly getStmt: PreparedStatement;
  private readonly pendingStmt: PreparedStatement;
  /** Quarantine entries this process made (at open or when a read met an unreadable row). */
  private readonly quarantinedEntries: number[] = [];
  /** The open transaction of batched inserts, or null when none is open. */
  private batch: OpenBatch | null = null;
  private batchLost: BatchLostListener | null = null;

  private constructor(
    private readonly db: Database,
    private readonly lock: OwnerLock,
    private readonly codec: RequestCodec,
    readonly info: SqliteStoreInfo,
  ) {
    this.logSync = new LogSync(info.databasePath, info.journalMode === 'wal');
    const set =
      'state = ?, updated_at = ?, sent_at = ?, settled_at = ?, attempts = ?, expires_at = ?, outcome = ?';
    this.insertStmt = new PreparedStatement(
      db,
      `INSERT INTO commands (${COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateStmt = new PreparedStatement(
      db,
      `UPDATE commands SET ${set} WHERE id = ? RETURNING ${COLUMNS}`,
    );
    // By rowid (seq): one B-tree search instead of the id index's plus the table's; the id
    // check guards against a caller holding a stale row.
    this.updatePlainStmt = new PreparedStatement(db, `UPDATE commands SET ${set} WHERE id = ? AND seq = ?`);
    this.beginStmt = new PreparedStatement(db, 'BEGIN IMMEDIATE');
    this.frontierUpsertStmt = new PreparedStatement(
      db,
      'INSERT INTO send_frontier (server_id, seq) VALUES (?, ?) ON CONFLICT (server_id) DO UPDATE SET seq = excluded.seq',
    );
    this.frontierDeleteStmt = new PreparedStatement(db, 'DELETE FROM send_frontier WHERE server_id = ?');
    this.commitStmt = new PreparedStatement(db, 'COMMIT');

    this.updateToEndStmt = new PreparedStatement(
      db,
      `UPDATE commands SET ${set}, seq = (SELECT max(seq) FROM commands) + 1 WHERE id = ? RETURNING ${COLUMNS}`,
    );
    this.getStmt = new PreparedStatement(db, `SELECT ${COLUMNS} FROM commands WHERE id = ?`);
    this.pendingStmt = new PreparedStatement(
      db,
      `SELECT ${COLUMNS} FROM commands WHERE state IN ('queued', 'sending') ORDER BY seq`,
    );
  }

  /**
   * Opens (creating when needed) the store in `dataDir`: takes the directory's owner lock,
   * removes a `<db>.lock` left by a killed owner, checks the file (`quick_check`), rebuilds it
   * when it is no usable database (moving it aside, see `info.movedAside`), sets and verifies
   * the durability pragmas, migrates the schema, and puts rows that cannot be read in
   * quarantine.
   *
   * @throws QueueLockedError when another live process owns `dataDir` (nothing is checked,
   *   moved or changed then)
   * @throws DiskFullError when the disk is too full to set unreadable rows aside or to start
   * @throws StoreFailureError when the database cannot be opened or configured durably for a
   *   reason other than its contents (permissions, I/O errors), or was written by a newer build
   *   (schema version above `SCHEMA_VERSION`)
   */
  static open(dataDir: string, options: SqliteCommandStoreOptions = {}): SqliteCommandStore {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    // First: every check below may rename or delete files, which only the owner may do.
    const lock = acquireOwnerLock(dir);
    const databasePath = join(dir, DATABASE_FILE);
    const codec = options.codec ?? wireRequestCodec;
    let db: Database | undefined;
    try {
      // Safe only because we hold the owner lock: nobody else can be using the database.
      const recoveredDbLock = removeDirIfPresent(`${databasePath}.lock`);
      let opened;
      try {
        opened = openCommandDatabase(databasePath, {
          codec,
          now: Date.now,
          configure: (d) => configureDurability(d, databasePath),
          checkVersion: (d) => {
            checkVersion(d, databasePath);
          },
          migrate: (d) => migrate(d, databasePath),
        });
      } catch (error) {
        if (isDiskFull(error, dir)) {
          throw new DiskFullError(
            `The disk holding the command queue (${dir}) is full: the queue cannot start. Nothing was changed or lost; free some disk space and start again.`,
            { cause: error },
          );
        }
        throw error;
      }
      db = opened.db;
      // The -wal file was just created: make its directory entry durable too (xSync does not).
      syncDirectory(dir);
      const info: SqliteStoreInfo = {
        databasePath,
        journalMode: opened.journalMode,
        recoveredStaleLock: recoveredDbLock || lock.recoveredStale,
        migratedFrom: opened.migratedFrom,
        movedAside: opened.movedAside,
      };
      const store = new SqliteCommandStore(db, lock, codec, info);
      try {
        // The migrations committed under synchronous=NORMAL, and a killed owner may have left
        // commits in the log that it never synced.
        store.logSync.syncCommitted('the opened database');
        store.quarantineUnreadable();
      } catch (error) {
        store.logSync.close();
        throw error;
      }
      return store;
    } catch (error) {
      try {
        if (db?.isOpen) db.close();
      } finally {
        lock.release();
      }
      throw error;
    }
  }

  /**
   * At open: moves every row that breaks a column rule (checked in SQL, see commandRow.ts) to
   * the quarantine, in one durable transaction. Request bytes are checked when a row is read.
   */
  private quarantineUnreadable(): void {
    const rows = this.queryOnce(UNREADABLE_ROWS_SQL, [], 'check the stored commands');
    if (rows.length === 0) return;
    this.transaction(() => {
      for (const row of rows) this.quarantineRow(row.seq as number, String(row.reason));
    });
  }

  /** Moves row `seq` to the quarantine (inside the caller's transaction, or in one of its own). */
  private quarantineRow(seq: number, reason: string): void {
    const move = (): void => {
      this.beginWrite('set an unreadable command aside');
      let entry: number | null;
      try {
        entry = moveToQuarantine(this.db, seq, reason, Date.now());
      } catch (error) {
        throw this.failure('set an unreadable command aside', error);
      }
      if (entry !== null) this.quarantinedEntries.push(entry);
    };
    if (this.db.inTransaction && this.batch === null) move();
    else this.transaction(move);
  }

  /**
   * The command a row holds, or null after moving the row to the quarantine because it cannot
   * be read: a read must not fail for every command over one bad row.
   */
  private readable(row: Row): QueuedCommand | null {
    try {
      return decodeCommandRow(row, this.codec);
    } catch (error) {
      if (!(error instanceof UnreadableRowError)) throw error;
      this.quarantineRow(row.seq as number, error.reason);
      return null;
    }
  }

  private readableRows(rows: readonly Row[]): QueuedCommand[] {
    const out: QueuedCommand[] = [];
    for (const row of rows) {
      const command = this.readable(row);
      if (command !== null) out.push(command);
    }
    return out;
  }

  get repairs(): StoreRepairs {
    return { movedAside: this.info.movedAside, quarantinedEntries: [...this.quarantinedEntries] };
  }

  quarantined(serverId?: string): QuarantinedCommand[] {
    this.assertOpen('list quarantined commands');
    try {
      return readQuarantined(this.db, serverId);
    } catch (error) {
      throw this.failure('list quarantined commands', error);
    }
  }

  discardQuarantined(key: number | string): QuarantinedCommand {
    this.beginWrite('discard a quarantined command');
    let removed: QuarantinedCommand | null;
    try {
      removed = deleteQuarantined(this.db, key);
    } catch (error) {
      throw this.failure('discard a quarantined command', error);
    }
    if (removed === null) throw new QuarantineEntryNotFoundError(key);
    this.syncIfAutocommit(`the discard of quarantine entry ${removed.entry}`);
    return removed;
  }

  notices(): QueueNotice[] {
    this.assertOpen('read the queue notices');
    try {
      return readNotices(this.db);
    } catch (error) {
      throw this.failure('read the queue notices', error);
    }
  }

  dismissNotice(id: number): boolean {
    this.beginWrite('dismiss a queue notice');
    let removed: boolean;
    try {
      removed = deleteNotice(this.db, id);
    } catch (error) {
      throw this.failure('dismiss a queue notice', error);
    }
    if (removed) this.syncIfAutocommit(`the dismissal of notice ${id}`);
    return removed;
  }

  onBatchLost(listener: BatchLostListener): void {
    this.batchLost = listener;
  }

  insert(command: NewCommand, options: InsertOptions = {}): QueuedCommand {
    // Without a listener nobody could hear of a lost batch: such a row commits on its own.
    const batched = options.batch === true && this.batchLost !== null;
    if (batched) this.assertWritable('store a command');
    else this.beginWrite('store a command');
    const bytes = this.codec.encode(command.request);
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new InvalidCommandError(
        `The ${command.kind} is ${bytes.length} bytes encoded, over the protocol's limit of ${MAX_MESSAGE_BYTES} bytes.`,
      );
    }
    // Inside a caller's transaction() the row simply joins it.
    if (batched && !this.db.inTransaction) this.openBatch();
    let rowid: number | bigint;
    try {
      rowid = this.insertStmt.run([
        command.id,
        command.serverId,
        command.kind,
        bytes,
        command.state,
        command.createdAt,
        command.updatedAt,
        command.sentAt,
        command.settledAt,
        command.attempts,
        command.expiresAt,
        command.outcome === null ? null : JSON.stringify(command.outcome),
        command.summary,
        command.retryOf,
      ]).lastInsertRowid;
    } catch (error) {
      const failure = errorText(error).includes('UNIQUE constraint failed: commands.id')
        ? new DuplicateCommandError(command.id)
        : this.failure(`store command ${command.id}`, error);
      this.afterFailedBatchInsert(failure);
      throw failure;
    }
    const seq = Number(rowid);
    if (this.batch !== null) {
      this.batch.firstSeq ??= seq;
      this.batch.rows++;
    } else {
      const lazy = options.durable === false || options.batch === true;
      this.syncUnlessLazy({ durable: !lazy }, `command ${command.id}`);
    }
    return { ...command, seq };
  }

  /** Opens the transaction that the next batched inserts join. */
  private openBatch(): void {
    try {
      this.beginStmt.run([]);
    } catch (error) {
      throw this.failure('begin a transaction', error);
    }
    this.batch = { firstSeq: null, rows: 0 };
  }

  /**
   * After an insert of the open batch failed: only that statement was undone, unless SQLite
   * rolled back the whole transaction (it may, e.g. on a full disk or an I/O error), which takes
   * the batch's earlier rows with it. A batch left with no row is ended here: no group commit
   * is on its way to end it.
   */
  private afterFailedBatchInsert(failure: QueueError): void {
    const batch = this.batch;
    if (batch === null) return;
    if (!this.db.inTransaction) {
      this.batch = null;
      this.reportLostBatch(batch, failure);
    } else if (batch.rows === 0) {
      this.batch = null;
      this.rollbackQuietly();
    }
  }

  /**
   * Commits the open batch, if any (without an fsync: `sync` or the next durable commit makes
   * it durable, the log being sequential). When the commit fails, its rows are gone: the
   * `onBatchLost` listener hears it, not the caller, whose own write goes on.
   */
  private commitBatch(): void {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    try {
      this.commitStmt.run([]);
    } catch (error) {
      this.rollbackQuietly();
      this.reportLostBatch(batch, this.failure(`store ${batch.rows} command(s) enqueued together`, error));
      return;
    }
    this.syncUnlessLazy({ durable: false }, 'the commands enqueued together');
  }

  private reportLostBatch(batch: OpenBatch, failure: QueueError): void {
    if (batch.firstSeq !== null) this.batchLost?.(batch.firstSeq, failure);
  }

  /** A rollback after a failure SQLite may already have rolled back: its own error adds nothing. */
  private rollbackQuietly(): void {
    try {
      this.rollbackIfOpen();
    } catch {
      // The connection reports the failure that caused this on its next use, if it persists.
    }
  }

  update(id: string, patch: CommandPatch, current?: QueuedCommand): QueuedCommand {
    this.beginWrite('update a command');
    const values: SQLiteValue[] = [
      patch.state,
      patch.updatedAt,
      patch.sentAt,
      patch.settledAt,
      patch.attempts,
      patch.expiresAt,
      patch.outcome === null ? null : JSON.stringify(patch.outcome),
      id,
    ];
    if (current !== undefined && current.id === id && patch.moveToEnd !== true) {
      // The caller holds the row: skip reading it back (and decoding its request blob), which
      // was most of the cost of an update on the drain path.
      values.push(current.seq);
      let changes: number;
      try {
        changes = this.updatePlainStmt.run(values).changes;
      } catch (error) {
        throw this.failure(`update command ${id}`, error);
      }
      if (changes === 0) throw new CommandNotFoundError(id);
      this.syncIfAutocommit(`the update of command ${id}`);
      return withPatch(current, patch);
    }
    const stmt = patch.moveToEnd === true ? this.updateToEndStmt : this.updateStmt;
    let rows: Row[];
    try {
      // all(): runs the statement to completion, which is what commits an autocommit write.
      rows = stmt.all(values);
    } catch (error) {
      throw this.failure(`update command ${id}`, error);
    }
    const row = rows[0];
    if (row === undefined) throw new CommandNotFoundError(id);
    this.syncIfAutocommit(`the update of command ${id}`);
    try {
      return decodeCommandRow(row, this.codec);
    } catch (error) {
      // The row was read (and decoded) before this update, so this is no damage found at rest.
      throw new StoreFailureError(
        `Stored command ${id} cannot be read back after an update: ${errorText(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Before any write but a batched insert: the open batch is committed first (see the header). */
  private beginWrite(operation: string): void {
    this.assertWritable(operation);
    this.commitBatch();
  }

  private assertWritable(operation: string): void {
    this.assertOpen(operation);
    const failedSync = this.logSync.failure;
    if (failedSync !== null) {
      throw new StoreFailureError(
        `Cannot ${operation}: an earlier fsync of the command database failed (${failedSync.message}); restart the console once the disk is fixed.`,
        { cause: failedSync },
      );
    }
  }

  /**
   * After a write outside `transaction()`: durable unless the caller asked otherwise (in WAL
   * mode; without WAL every commit is durable), when the next fsync covers it.
   */
  private syncUnlessLazy(options: { readonly durable?: boolean }, what: string): void {
    if (options.durable === false && !this.db.inTransaction && this.info.journalMode === 'wal') {
      this.logSync.noteLazyCommit();
    } else this.syncIfAutocommit(what);
  }

  /** A write outside `transaction()` committed on its own: make it durable before returning. */
  private syncIfAutocommit(what: string): void {
    if (!this.db.inTransaction) this.logSync.syncCommitted(what);
  }

  transaction<T>(work: () => T, options: { readonly durable?: boolean } = {}): T {
    this.beginWrite('start a transaction');
    if (this.db.inTransaction)
      throw new StoreFailureError('Nested command-store transactions are not supported.');
    // A non-durable commit skips only our fsync of the log: synchronous=NORMAL still syncs at
    // checkpoints (OFF would not, and a checkpoint that reuses the log before the database file
    // is on disk can corrupt it in a power cut). Frames stay in order in the log, so the next
    // durable commit's fsync, or sync(), covers them as well. Without WAL the connection runs
    // synchronous=FULL, so every commit there is durable.
    const durable = options.durable !== false || this.info.journalMode !== 'wal';
    try {
      this.beginStmt.run([]);
    } catch (error) {
      throw this.failure('begin a transaction', error);
    }
    let result: T;
    try {
      result = work();
    } catch (error) {
      this.rollbackIfOpen();
      throw error;
    }
    try {
      this.commitStmt.run([]);
    } catch (error) {
      this.rollbackIfOpen();
      throw this.failure('commit a transaction', error);
    }
    if (durable) this.logSync.syncCommitted('a transaction');
    else this.logSync.noteLazyCommit();
    return result;
  }

  get hasUnsyncedWrites(): boolean {
    return this.batch !== null || this.logSync.hasUnsyncedWrites;
  }

  // An fsync of the log is exactly what a durable commit adds (it syncs the file, whichever
  // descriptor asks). A checkpoint would sync too, but it also copies the log into the
  // database file and makes the next commit restart the log with an fsync of its own.

  sync(what = 'recent writes'): void {
    this.assertOpen('sync the command database');
    this.commitBatch();
    if (!this.hasUnsyncedWrites) return;
    if (this.db.inTransaction) throw new StoreFailureError('Cannot sync inside a transaction.');
    this.logSync.syncCommitted(what);
  }

  syncInBackground(): Promise<void> {
    if (!this.closed) this.commitBatch();
    // Without WAL every commit is durable, so there is never anything to sync.
    return this.logSync.syncInBackground();
  }

  /** SQLite may already have rolled back on its own (e.g. after an I/O error). */
  private rollbackIfOpen(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  get(id: string): QueuedCommand | null {
    this.assertOpen('read a command');
    const rows = this.query(this.getStmt, [id], `read command ${id}`);
    const row = rows[0];
    return row === undefined ? null : this.readable(row);
  }

  sendFrontiers(): Map<string, number> {
    this.assertOpen('read the send frontiers');
    const rows = this.queryOnce('SELECT server_id, seq FROM send_frontier', [], 'read the send frontiers');
    const out = new Map<string, number>();
    for (const row of rows) {
      const serverId = row.server_id;
      const seq = row.seq;
      // A frontier whose server cannot be read cannot be applied to any command: skipped. One
      // whose seq cannot be read covers every queued command of its server (all may have left).
      if (typeof serverId !== 'string') continue;
      out.set(serverId, typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : Number.MAX_SAFE_INTEGER);
    }
    return out;
  }

  dedupeEpoch(serverId: string): string | null {
    this.assertOpen('read a dedupe epoch');
    const rows = this.queryOnce(
      'SELECT dedupe_epoch FROM server_epochs WHERE server_id = ?',
      [serverId],
      `read the dedupe epoch of ${serverId}`,
    );
    const epoch = rows[0]?.dedupe_epoch;
    if (epoch === undefined) return null;
    // A damaged value must not stop the queue: '' is no server's epoch, so the next one seen
    // counts as a change (what was in flight is not resent) and replaces it.
    return typeof epoch === 'string' ? epoch : '';
  }

  setDedupeEpoch(serverId: string, epoch: string): void {
    this.beginWrite('record a dedupe epoch');
    try {
      this.db.run(
        'INSERT INTO server_epochs (server_id, dedupe_epoch) VALUES (?, ?) ON CONFLICT (server_id) DO UPDATE SET dedupe_epoch = excluded.dedupe_epoch',
        [serverId, epoch],
      );
    } catch (error) {
      throw this.failure(`record the dedupe epoch of ${serverId}`, error);
    }
    this.syncIfAutocommit(`the dedupe epoch of ${serverId}`);
  }

  setSendFrontier(serverId: string, seq: number | null, options: { readonly durable?: boolean } = {}): void {
    this.beginWrite('record a send frontier');
    try {
      if (seq === null) this.frontierDeleteStmt.run([serverId]);
      else this.frontierUpsertStmt.run([serverId, seq]);
    } catch (error) {
      throw this.failure(`record the send frontier of ${serverId}`, error);
    }
    this.syncUnlessLazy(options, `the send frontier of ${serverId}`);
  }

  loadPending(): QueuedCommand[] {
    this.assertOpen('load pending commands');
    return this.readableRows(this.query(this.pendingStmt, [], 'load pending commands'));
  }

  list(query: ListQuery): QueuedCommand[] {
    this.assertOpen('list commands');
    const where: string[] = [];
    const values: SQLiteValue[] = [];
    if (query.serverId !== undefined) {
      where.push('server_id = ?');
      values.push(query.serverId);
    }
    if (query.states !== undefined) {
      const condition = stateCondition(query.states);
      if (condition === null) return [];
      where.push(condition);
    }
    values.push(query.limit);
    const sql = `SELECT ${COLUMNS} FROM commands ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    return this.readableRows(this.queryOnce(sql, values, 'list commands'));
  }

  history(query: HistoryQuery): QueuedCommand[] {
    this.assertOpen('read the history');
    const where = ['settled_at IS NOT NULL'];
    const values: SQLiteValue[] = [];
    if (query.serverId !== undefined) {
      where.push('server_id = ?');
      values.push(query.serverId);
    }
    if (query.before !== undefined) {
      where.push('(settled_at < ? OR (settled_at = ? AND seq < ?))');
      values.push(query.before.settledAt, query.before.settledAt, query.before.seq);
    }
    values.push(query.limit);
    const sql = `SELECT ${COLUMNS} FROM commands WHERE ${where.join(' AND ')} ORDER BY settled_at DESC, seq DESC LIMIT ?`;
    return this.readableRows(this.queryOnce(sql, values, 'read the history'));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // Rows whose enqueue still waits are kept, as they were when each row committed alone.
      this.commitBatch();
      for (const stmt of [
        this.insertStmt,
        this.updateStmt,
        this.updatePlainStmt,
        this.updateToEndStmt,
        this.getStmt,
        this.pendingStmt,
        this.beginStmt,
        this.commitStmt,
        this.frontierUpsertStmt,
        this.frontierDeleteStmt,
      ]) {
        stmt.finalize();
      }
      // A background fsync still running closes the log when it ends (its number must not be
      // reused under it).
      this.logSync.close();
      // Checkpoints the WAL into the database file and removes `<db>.lock`.
      this.db.close();
    } finally {
      this.lock.release();
    }
  }

  private query(stmt: PreparedStatement, values: SQLiteValue[], what: string): Row[] {
    try {
      return stmt.all(values);
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  private queryOnce(sql: string, values: SQLiteValue[], what: string): Row[] {
    try {
      return this.db.all(sql, values) as Row[];
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new QueueClosedError(operation);
  }

  private failure(what: string, error: unknown): QueueError {
    if (error instanceof QueueError) return error;
    const dir = dirname(this.info.databasePath);
    if (isDiskFull(error, dir)) {
      // SQLite rolled the write back whole (statement or transaction): nothing half-written.
      return new DiskFullError(
        `The disk holding the command queue (${dir}) is full: could not ${what}. Nothing of that was stored; ` +
          'everything stored before is kept. Free some disk space and try again.',
        { cause: error, directory: dir },
      );
    }
    return new StoreFailureError(
      `Command store (${this.info.databasePath}) could not ${what}: ${errorText(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * `state = '<s>'` or `state IN (...)` with the states as literals: SQLite uses a partial index
 * (`commands_timed_out`, schemaMigrations.ts) only when the query's own text implies the
 * index's condition, which a bound parameter never does. A value that is no command state
 * matches no row, as it did when bound; null when none is left.
 */
function stateCondition(states: readonly string[]): string | null {
  const known = COMMAND_STATES.filter((state) => states.includes(state));
  if (known.length === 0) return null;
  if (known.length === 1) return `state = '${known[0] as string}'`;
  return `state IN (${known.map((state) => `'${state}'`).join(', ')})`;
}

function removeDirIfPresent(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw new StoreFailureError(`Cannot remove the stale database lock "${path}": ${errorText(error)}`, {
      cause: error,
    });
  }
}
