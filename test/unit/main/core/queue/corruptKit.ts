/**
 * Damaging a real command database by hand, for the quarantine and repair tests: SQL through a
 * second connection (the store closed first, so everything is in the main file), and bytes
 * written straight into the file.
 */
import { closeSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import type { Database } from 'node-sqlite3-wasm';
import { DATABASE_FILE } from '../../../../../main/core/queue/sqliteCommandStore';

export const dbPath = (dir: string): string => join(dir, DATABASE_FILE);

/** Runs `work` on a raw connection to the (closed) store's database in `dir`. */
export function withRawDb<T>(dir: string, work: (db: Database) => T): T {
  const db = new sqlite.Database(dbPath(dir));
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    return work(db);
  } finally {
    db.close();
  }
}

/**
 * Lets `work` break the `commands` table's declared constraints (NOT NULL) by editing the schema
 * text, as a hand-edited or foreign-written file might hold. `restore`: put the original schema
 * text back afterwards, so the rows break the schema the file declares.
 */
export function withLooseSchema(dir: string, restore: boolean, work: (db: Database) => void): void {
  withRawDb(dir, (db) => {
    const original = (db.get("SELECT sql FROM sqlite_master WHERE name = 'commands'") as { sql: string }).sql;
    db.exec('PRAGMA writable_schema = ON');
    db.run("UPDATE sqlite_master SET sql = ? WHERE name = 'commands'", [
      original.replaceAll(' NOT NULL', ''),
    ]);
    db.exec('PRAGMA writable_schema = RESET');
    work(db);
    if (restore) {
      db.exec('PRAGMA writable_schema = ON');
      db.run("UPDATE sqlite_master SET sql = ? WHERE name = 'commands'", [original]);
      db.exec('PRAGMA writable_schema = RESET');
    }
  });
}

/** Overwrites `bytes.length` bytes of the file at `offset`. */
export function overwrite(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** The leaf pages of a table or index b-tree in key order, and the page size (SQLite's dbstat table). */
export function leafPages(dir: string, name: string): { pageSize: number; pages: number[] } {
  return withRawDb(dir, (db) => ({
    pageSize: (db.get('PRAGMA page_size') as { page_size: number }).page_size,
    pages: (
      db.all("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", [name]) as {
        pageno: number;
      }[]
    ).map((r) => r.pageno),
  }));
}

/** The file's SHA-256, to show a file was kept byte for byte. */
export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Files in `dir` whose names start with `prefix`, sorted. */
export function filesStartingWith(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .sort();
}
