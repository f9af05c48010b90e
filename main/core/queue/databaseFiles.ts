/**
 * The command database as files: telling a SQLite file from anything else, and moving an
 * unusable one aside (with its -wal, -shm and -journal sidecars) when a rebuilt one replaces
 * it. Only the owner of the data directory (see ownerLock.ts) may call these: they rename and
 * delete files another process could be using.
 *
 * A rebuild goes through names that say how far it got, so a process killed at any point
 * leaves something the next start can finish or undo (`finishInterruptedRebuild`):
 *   1. `<db>.rebuild-<stamp>.partial`: being written; deleted at the next start.
 *   2. `<db>.rebuilt-<stamp>`: complete and synced, holding the notice about the repair.
 *   3. `<db>` → `<db>.corrupt-<stamp>` (first, so no start can mistake it for the current
 *      database), then its sidecars → `<db>.corrupt-<stamp>-wal` etc. (SQLite looks for a
 *      database's log under exactly that name, so the set-aside copy opens with its log).
 *   4. `<db>.rebuilt-<stamp>` → `<db>`.
 * A start that finds step 2's file finishes steps 3 and 4.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isErrno } from '../../../shared/node/isErrno';

/** The 16 bytes every SQLite 3 database file starts with. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** A SQLite database header is 100 bytes; a shorter non-empty file cannot be one. */
const HEADER_BYTES = 100;

/** The files SQLite keeps next to a database, by suffix. */
export const SIDECAR_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

export type DatabaseFileState =
  | { readonly kind: 'absent' }
  /** Zero bytes with a non-empty `-wal` beside it: the engine reads the database from the log. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'sqlite' }
  | { readonly kind: 'not_sqlite'; readonly reason: string };

/**
 * What is at `path`, judged from its first bytes only (the engine and `quick_check` judge the
 * rest).
 * @throws the file system's error when it exists but cannot be read
 */
export function inspectDatabaseFile(path: string): DatabaseFileState {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return { kind: 'sqlite' }; // let the engine refuse it with its own words
    size = stat.size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'absent' };
    throw error;
  }
  if (size === 0) {
    // In WAL mode a new database may live in its log until the first checkpoint: the engine
    // reads that. With no log, a zero-byte file was emptied outside the console (or its first
    // write never happened): whatever was queued is gone, and the operator must hear so.
    if (fileSize(`${path}-wal`) > 0) return { kind: 'empty' };
    return {
      kind: 'not_sqlite',
      reason: 'it is empty (0 bytes): whatever it held was removed outside the console',
    };
  }
  if (size < HEADER_BYTES) {
    return {
      kind: 'not_sqlite',
      reason: `it is ${size} bytes long, shorter than a SQLite header (100 bytes)`,
    };
  }
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return head.equals(SQLITE_HEADER)
    ? { kind: 'sqlite' }
    : { kind: 'not_sqlite', reason: 'it does not start with the SQLite header' };
}

/** Size of the file at `path` in bytes; 0 when there is none. */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A time as it goes into a file name: UTC, no characters Windows refuses. e.g. 20250102T030405Z. */
export function fileStamp(now: number): string {
  return new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** `stamp`, made unique among the names that `databasePath`'s repairs would use. */
export function freeStamp(databasePath: string, now: number): string {
  const base = fileStamp(now);
  for (let n = 1; ; n++) {
    const stamp = n === 1 ? base : `${base}-${n}`;
    if (
      ![
        asidePath(databasePath, stamp),
        rebuiltPath(databasePath, stamp),
        partialPath(databasePath, stamp),
      ].some((p) => existsSync(p))
    ) {
      return stamp;
    }
  }
}

/** Where an unusable database goes. */
export const asidePath = (databasePath: string, stamp: string): string => `${databasePath}.corrupt-${stamp}`;
/** A complete rebuilt database, waiting to take `databasePath`'s place. */
export const rebuiltPath = (databasePath: string, stamp: string): string =>
  `${databasePath}.rebuilt-${stamp}`;
/** A rebuilt database being written. */
export const partialPath = (databasePath: string, stamp: string): string =>
  `${databasePath}.rebuild-${stamp}.partial`;

/**
 * Finishes a rebuild a killed process left behind, or removes its unfinished files.
 * @returns the path the unusable database was moved to, when a rebuild was finished; else null
 */
export function finishInterruptedRebuild(databasePath: string): string | null {
  const dir = dirname(databasePath);
  const name = basename(databasePath);
  const entries = readdirSync(dir);
  for (const entry of entries) {
    // Step 1 leftovers (and their journals or engine lock directories): not complete, so unused.
    if (entry.startsWith(`${name}.rebuild-`) && /\.partial(-wal|-shm|-journal|\.lock)?$/.test(entry)) {
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
  const rebuilt = entries
    .map((entry) => new RegExp(`^${escapeRegExp(name)}\\.rebuilt-([0-9TZ-]+)$`).exec(entry)?.[1])
    .filter((stamp): stamp is string => stamp !== undefined)
    .sort();
  const stamp = rebuilt[rebuilt.length - 1];
  if (stamp === undefined) return null;
  return swapInRebuilt(databasePath, stamp);
}

/**
 * Steps 3 and 4: moves `databasePath` and its sidecars aside (those still there) and puts the
 * rebuilt database in its place, then syncs the directory.
 * @returns where the old database went
 */
export function swapInRebuilt(databasePath: string, stamp: string): string {
  const aside = asidePath(databasePath, stamp);
  // A database without its log reads as older than it is: the main file moves first, so a
  // start after a kill never opens it without its -wal (it finds the rebuilt file instead).
  moveIfPresent(databasePath, aside);
  for (const suffix of SIDECAR_SUFFIXES) moveIfPresent(`${databasePath}${suffix}`, `${aside}${suffix}`);
  renameSync(rebuiltPath(databasePath, stamp), databasePath);
  syncDirectory(dirname(databasePath));
  return aside;
}

/** Deletes a database and what the engine keeps beside it (a rebuild that failed half way). */
export function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', ...SIDECAR_SUFFIXES, '.lock'])
    rmSync(`${path}${suffix}`, { recursive: true, force: true });
}

/**
 * Makes renames and new files in `dir` durable. Windows cannot open a directory for fsync;
 * NTFS journals directory entries itself.
 */
export function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function moveIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
