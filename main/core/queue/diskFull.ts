/**
 * Telling "the disk is full" from other storage failures, so the operator reads that instead of
 * an engine code. SQLite reports a full database as SQLITE_FULL ("database or disk is full"),
 * but node-sqlite3-wasm's file layer turns every failed write, ENOSPC included, into
 * SQLITE_IOERR_WRITE ("disk I/O error"); for those the free space left on the disk decides.
 */
import { statfsSync } from 'node:fs';

/** Below this many free bytes (for an unprivileged user) a failed write counts as a full disk. */
export const FULL_BELOW_BYTES = 1024 * 1024;

/**
 * True when `error` means the disk (or the database's page limit) is full.
 * @param dir the directory of the database, whose file system's free space is checked for an I/O error
 */
export function isDiskFull(error: unknown, dir: string): boolean {
  const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : '';
  const text = error instanceof Error ? `${error.message} ${code}` : String(error);
  if (/database or disk is full|ENOSPC|EDQUOT/i.test(text)) return true;
  if (/disk I\/O error/i.test(text)) return freeBytes(dir) < FULL_BELOW_BYTES;
  return false;
}

/** Bytes an unprivileged user may still write on the file system holding `dir`; Infinity when unknown. */
export function freeBytes(dir: string): number {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
