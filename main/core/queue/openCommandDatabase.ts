/**
 * Opens the command database whatever the disk holds. A file that is no SQLite database, or one
 * the engine or `PRAGMA quick_check` finds damaged, is replaced by a rebuilt one (see
 * databaseRebuild.ts) instead of stopping the queue: damaged databases are salvaged row by row,
 * since most damage hits a page or an index and leaves most commands readable, and losing every
 * command the operator was told is on disk over one bad page would break the queue's promise
 * far more than the damage did. The file found is kept aside, unchanged, either way.
 *
 * Errors that say nothing about the file's contents (no permission, disk I/O errors, a schema
 * newer than this build) still fail the open: moving a file aside for those would hide a
 * problem the operator must fix, or throw away a newer build's data.
 */
import sqlite from 'node-sqlite3-wasm';
import type { Database } from 'node-sqlite3-wasm';
import { finishInterruptedRebuild, inspectDatabaseFile } from './databaseFiles';
import { rebuildDatabase } from './databaseRebuild';
import type { RebuildResult } from './databaseRebuild';
import { errorText, StoreFailureError } from './queueErrors';
import type { RequestCodec } from './requestCodec';

/** What the store does to a connection once the file is known to be usable. */
export interface OpenSteps {
  readonly codec: RequestCodec;
  /** ms since the epoch, for file names and notices. */
  readonly now: () => number;
  /** Sets the durability pragmas; returns the journal mode. Throws StoreFailureError. */
  readonly configure: (db: Database) => string;
  /** Throws StoreFailureError when the file was written by a newer build (before anything is checked). */
  readonly checkVersion: (db: Database) => void;
  /** Runs pending migrations; returns the version found. Also builds a new database's schema. */
  readonly migrate: (db: Database) => number;
}

export interface OpenedDatabase {
  readonly db: Database;
  readonly journalMode: string;
  /** `user_version` before migrations ran. */
  readonly migratedFrom: number;
  /** Databases moved aside during this open: by a rebuild now, or one a killed process left half done. */
  readonly movedAside: readonly string[];
  /** The rebuild made by this open, if any. */
  readonly rebuild: RebuildResult | null;
}

/**
 * Opens `databasePath`, rebuilding it first when it cannot be used. The caller holds the data
 * directory's owner lock: nobody else uses these files.
 * @throws StoreFailureError when the file cannot be opened for another reason than its contents,
 *   is newer than this build, or the rebuilt database cannot be written or opened
 */
export function openCommandDatabase(databasePath: string, steps: OpenSteps): OpenedDatabase {
  const movedAside: string[] = [];
  let finished: string | null;
  try {
    finished = finishInterruptedRebuild(databasePath);
  } catch (error) {
    throw new StoreFailureError(
      `Cannot finish repairing the command database "${databasePath}" (a repair was interrupted): ${errorText(error)}`,
      { cause: error },
    );
  }
  if (finished !== null) movedAside.push(finished);
  let problem: Problem | null;
  try {
    const state = inspectDatabaseFile(databasePath);
    problem = state.kind === 'not_sqlite' ? { reason: state.reason, salvage: false } : null;
  } catch (error) {
    throw new StoreFailureError(`Cannot read the command database "${databasePath}": ${errorText(error)}`, {
      cause: error,
    });
  }
  if (problem === null) {
    const opened = tryOpen(databasePath, steps);
    if (!('problem' in opened)) return { ...opened, movedAside, rebuild: null };
    problem = opened.problem;
  }
  let rebuild: RebuildResult;
  try {
    rebuild = rebuildDatabase(databasePath, {
      reason: problem.reason,
      salvage: problem.salvage,
      codec: steps.codec,
      now: steps.now(),
      createSchema: (db) => {
        steps.migrate(db);
      },
    });
  } catch (error) {
    throw new StoreFailureError(
      `The command database "${databasePath}" cannot be used (${problem.reason}), and a new one could not be made beside it: ${errorText(error)}`,
      { cause: error },
    );
  }
  movedAside.push(rebuild.movedTo);
  const reopened = tryOpen(databasePath, steps);
  if ('problem' in reopened) {
    throw new StoreFailureError(
      `The rebuilt command database "${databasePath}" cannot be used either (${reopened.problem.reason}).`,
    );
  }
  return { ...reopened, movedAside, rebuild };
}

interface Problem {
  readonly reason: string;
  readonly salvage: boolean;
}

type Attempt = { db: Database; journalMode: string; migratedFrom: number } | { problem: Problem };

/** Checks, then opens, configures and migrates; a damaged file comes back as a problem, closed. */
function tryOpen(databasePath: string, steps: OpenSteps): Attempt {
  const verdict = checkReadOnly(databasePath, steps);
  if (verdict !== null && verdict !== 'unchecked') return { problem: verdict };
  let db: Database;
  try {
    db = new sqlite.Database(databasePath);
  } catch (error) {
    throw new StoreFailureError(`Cannot open the command database "${databasePath}": ${errorText(error)}`, {
      cause: error,
    });
  }
  try {
    const journalMode = steps.configure(db);
    steps.checkVersion(db);
    if (verdict === 'unchecked') {
      const check = quickCheck(db);
      if (check !== null) {
        db.close();
        return { problem: { reason: `quick_check: ${check}`, salvage: true } };
      }
    }
    return { db, journalMode, migratedFrom: steps.migrate(db) };
  } catch (error) {
    if (db.isOpen) closeQuietly(db);
    const engine = corruptionIn(error);
    if (engine === null) throw error;
    return { problem: { reason: `SQLite: ${engine}`, salvage: true } };
  }
}

/**
 * Runs the checks on a read-only connection first: closing a read-write one checkpoints the log
 * into the file, and a damaged file must be set aside as it was found.
 * @returns null when the file is fine (or there is none yet); the problem when it is damaged;
 *   'unchecked' when it cannot be opened read-only (e.g. a rollback journal must be played back
 *   first), so the read-write connection checks it
 * @throws StoreFailureError from `checkVersion`
 */
function checkReadOnly(databasePath: string, steps: OpenSteps): Problem | null | 'unchecked' {
  const state = inspectDatabaseFile(databasePath);
  if (state.kind === 'absent' || state.kind === 'empty') return null;
  let db: Database;
  try {
    db = new sqlite.Database(databasePath, { readOnly: true });
  } catch {
    return 'unchecked';
  }
  try {
    // Before the first read: keeps the log index in heap memory (the package's VFS has no shm).
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    steps.checkVersion(db);
    const check = quickCheck(db);
    return check === null ? null : { reason: `quick_check: ${check}`, salvage: true };
  } catch (error) {
    const engine = corruptionIn(error);
    if (engine !== null) return { reason: `SQLite: ${engine}`, salvage: true };
    if (error instanceof StoreFailureError) throw error;
    return 'unchecked';
  } finally {
    closeQuietly(db);
  }
}

/** null when `PRAGMA quick_check` says ok; else its first findings, shortened. */
function quickCheck(db: Database): string | null {
  const rows = db.all('PRAGMA quick_check(5)') as { quick_check?: unknown }[];
  const lines = rows.map((r) => String(r.quick_check));
  if (lines.length === 1 && lines[0] === 'ok') return null;
  const text = lines.join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** The engine's words when `error` (or its cause) says the file's contents are damaged; else null. */
function corruptionIn(error: unknown): string | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match =
      /file is not a database|database disk image is malformed|malformed database schema[^\n]*/i.exec(
        e.message,
      );
    if (match !== null) return match[0];
  }
  return null;
}

function closeQuietly(db: Database): void {
  try {
    db.close();
  } catch {
    // Closing a connection to a damaged file may repeat the damage error; it is closed anyway.
  }
}
