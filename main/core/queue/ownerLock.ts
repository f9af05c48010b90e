/**
 * One owner per data directory, across processes.
 *
 * node-sqlite3-wasm locks a database by creating a `<db>.lock` directory and removes it on
 * close; after a SIGKILL the directory stays and every later open fails with "database is
 * locked". We cannot tell a stale one from a live one by looking at it, so the owner first
 * takes this app-level lock (a file holding its pid): whoever holds it may safely delete a
 * leftover `<db>.lock`.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { QueueLockedError } from './queueErrors';

/** The lock file's name inside the data directory. */
export const OWNER_LOCK_FILE = 'owner.lock';

/** Paths this process holds, so a reused pid of our own is told apart from our live lock. */
const held = new Set<string>();

/** A held lock on a data directory. */
export interface OwnerLock {
  /** Absolute path of the lock file. */
  readonly path: string;
  /** True when a lock left by a dead process was removed to take this one. */
  readonly recoveredStale: boolean;
  /** Releases the lock (deletes the file if it is still ours). Idempotent. */
  release(): void;
}

interface LockInfo {
  readonly pid: number;
}

function readLock(path: string): LockInfo | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'gone';
    throw error;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid } : null;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}

/**
 * Takes the single-owner lock of `dataDir` (which must exist).
 *
 * The lock file is written in full under a temporary name and then hard-linked into place,
 * so nobody ever reads a half-written lock. A lock whose pid is not alive (or unreadable) is
 * stale: it is renamed away (atomic, so of two processes recovering at once only one wins),
 * checked to still be the stale one, and deleted.
 *
 * @throws QueueLockedError naming the directory and the pid of the live owner
 */
export function acquireOwnerLock(dataDir: string): OwnerLock {
  const dir = resolve(dataDir);
  const path = join(dir, OWNER_LOCK_FILE);
  if (held.has(path)) {
    throw new QueueLockedError(
      dir,
      process.pid,
      `The command queue in "${dir}" is already open in this process (pid ${process.pid}); close it first.`,
    );
  }
  const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const temp = join(dir, `${OWNER_LOCK_FILE}.${token}.tmp`);
  writeFileSync(temp, `${process.pid}\n${new Date().toISOString()}\n`);
  let recoveredStale = false;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(temp, path);
        held.add(path);
        return makeLock(path, recoveredStale);
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      const info = readLock(path);
      if (info === 'gone') continue;
      // Our own pid in a lock we do not hold is a leftover of an earlier process that had our pid.
      if (info !== null && info.pid !== process.pid && isAlive(info.pid)) {
        throw new QueueLockedError(dir, info.pid);
      }
      const grave = join(dir, `${OWNER_LOCK_FILE}.${token}.stale`);
      try {
        renameSync(path, grave);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue;
        throw error;
      }
      const moved = readLock(grave);
      const movedPid = moved === 'gone' || moved === null ? null : moved.pid;
      const seenPid = info === null ? null : info.pid;
      if (movedPid !== seenPid && movedPid !== null && isAlive(movedPid)) {
        // Someone else recovered it first and we moved their fresh lock: put it back.
        try {
          linkSync(grave, path);
        } finally {
          tryUnlink(grave);
        }
        throw new QueueLockedError(dir, movedPid);
      }
      tryUnlink(grave);
      recoveredStale = true;
    }
    throw new QueueLockedError(
      dir,
      0,
      `Could not take the lock "${path}": it keeps changing (several instances starting at once?). Try again.`,
    );
  } finally {
    tryUnlink(temp);
  }
}

function makeLock(path: string, recoveredStale: boolean): OwnerLock {
  let released = false;
  return {
    path,
    recoveredStale,
    release: () => {
      if (released) return;
      released = true;
      held.delete(path);
      const info = readLock(path);
      if (info !== 'gone' && info !== null && info.pid === process.pid) tryUnlink(path);
    },
  };
}
