/**
 * Replaces a command database that cannot be used with a new one: built beside it from every
 * row that can still be read (when asked to salvage), with a notice saying what happened, and
 * swapped in only once complete; the old file and its sidecars are kept aside, unchanged (the
 * damaged file is only ever opened read-only). See databaseFiles.ts for the steps and how a
 * killed rebuild is finished or undone.
 */
import { renameSync } from 'node:fs';
import { dirname } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import type { Database, SQLiteValue } from 'node-sqlite3-wasm';
import { isPending } from '../../../shared/domain/command';
import { COLUMNS, COMMAND_COLUMNS, UnreadableRowError, decodeCommandRow } from './commandRow';
import type { Row } from './commandRow';
import {
  asidePath,
  freeStamp,
  partialPath,
  rebuiltPath,
  removeDatabaseFiles,
  swapInRebuilt,
  syncDirectory,
} from './databaseFiles';
import { addNotice, insertQuarantined } from './quarantineTable';
import { errorText } from './queueErrors';
import type { RequestCodec } from './requestCodec';
import { salvageCommandRows } from './salvageRows';

export interface RebuildOptions {
  /** Why the database cannot be used, as the notice words it ("it does not start with …"). */
  readonly reason: string;
  /** Read what can be read from it first (false for a file that is no database at all). */
  readonly salvage: boolean;
  readonly codec: RequestCodec;
  /** ms since the epoch: names the files and dates the notice and quarantine entries. */
  readonly now: number;
  /** Creates the current schema in a new, empty database (the store's migrations). */
  readonly createSchema: (db: Database) => void;
}

export interface RebuildResult {
  /** Where the unusable database (and its sidecars, suffixed) now is. */
  readonly movedTo: string;
  /** The notice recorded in the new database, for the operator. */
  readonly notice: string;
  /** Commands copied into the new database. */
  readonly copied: number;
  /** Of those, still to be sent (queued or sending). */
  readonly pending: number;
  /** Rows put in quarantine: they could be found but not read. */
  readonly quarantined: number;
}

/** Tables copied as they are, when the damaged file still has them; `commands` is read row by row. */
const SKIP_TABLES = new Set(['commands', 'sqlite_sequence']);

/**
 * Moves the database at `databasePath` aside and puts a new one in its place. The caller holds
 * the data directory's owner lock and has closed every connection to the database.
 * @throws the file system's or the engine's error when the new database cannot be written (the
 *   old one is then still in place, untouched)
 */
export function rebuildDatabase(databasePath: string, options: RebuildOptions): RebuildResult {
  const stamp = freeStamp(databasePath, options.now);
  const partial = partialPath(databasePath, stamp);
  const movedTo = asidePath(databasePath, stamp);
  const dst = new sqlite.Database(partial);
  let result: Omit<RebuildResult, 'movedTo' | 'notice'> & { notes: string[] };
  let notice: string;
  try {
    // A rollback journal with synchronous=FULL: every commit is on disk when it returns, and
    // the file is complete on its own once closed (no log to carry along).
    dst.exec('PRAGMA locking_mode = EXCLUSIVE');
    dst.exec('PRAGMA synchronous = FULL');
    options.createSchema(dst);
    dst.exec('BEGIN IMMEDIATE');
    result = options.salvage ? copyReadable(databasePath, dst, options) : emptyResult();
    notice = noticeText(databasePath, movedTo, options, result);
    addNotice(dst, notice, movedTo, options.now);
    dst.exec('COMMIT');
    dst.close();
  } catch (error) {
    if (dst.isOpen) dst.close();
    removeDatabaseFiles(partial);
    throw error;
  }
  renameSync(partial, rebuiltPath(databasePath, stamp));
  syncDirectory(dirname(databasePath));
  swapInRebuilt(databasePath, stamp);
  return {
    movedTo,
    notice,
    copied: result.copied,
    pending: result.pending,
    quarantined: result.quarantined,
  };
}

function emptyResult(): { copied: number; pending: number; quarantined: number; notes: string[] } {
  return { copied: 0, pending: 0, quarantined: 0, notes: [] };
}

/** Copies what `databasePath` still yields into `dst` (inside its transaction). */
function copyReadable(
  databasePath: string,
  dst: Database,
  options: RebuildOptions,
): { copied: number; pending: number; quarantined: number; notes: string[] } {
  const out = emptyResult();
  let src: Database;
  try {
    // Read-only: the file is kept as found, and closing it cannot checkpoint its log into it.
    src = new sqlite.Database(databasePath, { readOnly: true });
    src.exec('PRAGMA locking_mode = EXCLUSIVE');
  } catch (error) {
    out.notes.push(`nothing could be read from it (${errorText(error)})`);
    return out;
  }
  try {
    // The other tables first, so quarantine entries and notices keep their numbers and the
    // entries this salvage makes come after them.
    out.notes.push(...copyTables(src, dst));
    const insert = dst.prepare(
      `INSERT INTO commands (${COLUMNS}) VALUES (${COMMAND_COLUMNS.map(() => '?').join(', ')})`,
    );
    const quarantine = (row: Row, reason: string): void => {
      insertQuarantined(dst, row, reason, options.now);
      out.quarantined++;
    };
    const lost: string[] = [];
    try {
      salvageCommandRows(src, {
        row: (row) => {
          let state;
          try {
            state = decodeCommandRow(row, options.codec).state;
          } catch (error) {
            if (!(error instanceof UnreadableRowError)) throw error;
            quarantine(row, error.reason);
            return;
          }
          try {
            insert.run(COMMAND_COLUMNS.map((c): SQLiteValue => row[c] ?? null));
          } catch (error) {
            // The damaged file's id index may have let a duplicate in.
            quarantine(row, `could not be copied (${errorText(error)})`);
            return;
          }
          out.copied++;
          if (isPending(state)) out.pending++;
        },
        partial: (row, error) => {
          quarantine(row, `its stored bytes are damaged (${error})`);
        },
        lost: (after, before) => {
          lost.push(before === null ? `after seq ${after}` : `between seq ${after} and ${before}`);
        },
      });
    } catch (error) {
      out.notes.push(`its commands table could not be read (${errorText(error)})`);
    } finally {
      insert.finalize();
    }
    if (lost.length > 0) {
      out.notes.push(
        `some rows could not be read at all (${lost.join(', ')}): they are only in the moved file`,
      );
    }
  } finally {
    src.close();
  }
  return out;
}

/**
 * Copies the other tables of the current schema (send frontiers, the quarantine, notices…) row
 * by row, as far as they read. @returns a note per table that did not copy in full
 */
function copyTables(src: Database, dst: Database): string[] {
  const notes: string[] = [];
  const tables = (dst.all("SELECT name FROM sqlite_master WHERE type = 'table'") as Row[])
    .map((r) => String(r.name))
    .filter((name) => !SKIP_TABLES.has(name));
  for (const table of tables) {
    let columns: string[];
    try {
      const have = new Set((src.all(`PRAGMA table_info(${table})`) as Row[]).map((r) => String(r.name)));
      if (have.size === 0) continue; // an older schema without this table
      columns = (dst.all(`PRAGMA table_info(${table})`) as Row[])
        .map((r) => String(r.name))
        .filter((c) => have.has(c));
    } catch (error) {
      notes.push(`table ${table} could not be read (${errorText(error)})`);
      continue;
    }
    let failed = 0;
    try {
      const rows = src.all(`SELECT ${columns.join(', ')} FROM ${table}`) as Row[];
      const insert = dst.prepare(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      try {
        for (const row of rows) {
          try {
            insert.run(columns.map((c): SQLiteValue => row[c] ?? null));
          } catch {
            failed++;
          }
        }
      } finally {
        insert.finalize();
      }
    } catch (error) {
      notes.push(`table ${table} could not be read (${errorText(error)})`);
      continue;
    }
    if (failed > 0) notes.push(`${failed} row(s) of table ${table} could not be copied`);
  }
  return notes;
}

function noticeText(
  databasePath: string,
  movedTo: string,
  options: RebuildOptions,
  result: { copied: number; pending: number; quarantined: number; notes: string[] },
): string {
  if (!options.salvage) {
    return (
      `The command database ${databasePath} could not be used: ${options.reason}. ` +
      `It was moved to ${movedTo} and a new, empty queue was started; commands queued before are not in it. ` +
      'The moved file is kept for inspection: delete it once you no longer need it.'
    );
  }
  const parts = [
    `${result.copied} command(s) were copied into a new database (${result.pending} still to be sent)`,
  ];
  if (result.quarantined > 0) {
    parts.push(`${result.quarantined} could be found but not read and are in quarantine (never sent)`);
  }
  parts.push(...result.notes);
  return (
    `The command database ${databasePath} is damaged (${options.reason}). ` +
    `It was moved to ${movedTo}; ${parts.join('; ')}. ` +
    'The moved file is kept for inspection: delete it once you no longer need it.'
  );
}
