/** Prepared statements of node-sqlite3-wasm that survive the engine's failures. */
import type { Database, RunResult, SQLiteValue, Statement } from 'node-sqlite3-wasm';
import type { Row } from './commandRow';

/**
 * A prepared statement that survives a failed step. node-sqlite3-wasm resets a statement before
 * each use and gives up when the reset reports the previous step's error (as SQLite's reset
 * does after, e.g., a UNIQUE violation), so a failed statement is finalized and prepared again.
 */
export class PreparedStatement {
  private stmt: Statement;

  constructor(
    private readonly db: Database,
    private readonly sql: string,
  ) {
    this.stmt = db.prepare(sql);
  }

  run(values: SQLiteValue[]): RunResult {
    return this.guard(() => this.stmt.run(values));
  }

  /** Runs to completion (SQLITE_DONE), which is what commits an autocommit write. */
  all(values: SQLiteValue[]): Row[] {
    return this.guard(() => this.stmt.all(values) as Row[]);
  }

  /** Releases the statement; never throws. Idempotent. */
  finalize(): void {
    finalizeQuietly(this.stmt);
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      this.finalize();
      this.stmt = this.db.prepare(this.sql);
      throw error;
    }
  }
}

/** Releases `stmt` (when there is one), ignoring the error finalize repeats from its last step. */
export function finalizeQuietly(stmt: Statement | null): void {
  if (stmt === null || stmt.isFinalized) return;
  try {
    stmt.finalize();
  } catch {
    // finalize repeats the last step's error; the statement is released all the same.
  }
}
