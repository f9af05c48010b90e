/**
 * One owner per data directory, across processes.
 *
 * node-sqlite3-wasm locks a database by creating a `<db>.lock` directory and removes it on
 * close; after a SIGKILL the directory stays and every later open fails with "database is
 * locked". We cannot tell a stale one from a live one by looking at it, so the owner first
 * takes this app-level lock (a file holding its pid, shared/node/pidLock.ts): whoever holds
 * it may safely delete a leftover `<db>.lock`.
 */
import { join, resolve } from 'node:path';
import { acquirePidLock, LockHeldError, type PidLock } from '../../../shared/node/pidLock';
import { QueueLockedError } from './queueErrors';

/** The lock file's name inside the data directory. */
export const OWNER_LOCK_FILE = 'owner.lock';

/** A held lock on a data directory. */
export type OwnerLock = PidLock;

/**
 * Takes the single-owner lock of `dataDir` (which must exist). A lock left by a dead process
 * is taken over; of two processes doing so at once, one wins.
 *
 * @throws QueueLockedError naming the directory and the pid of the live owner
 */
export function acquireOwnerLock(dataDir: string): OwnerLock {
  const dir = resolve(dataDir);
  const path = join(dir, OWNER_LOCK_FILE);
  try {
    return acquirePidLock(path);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    switch (error.reason) {
      case 'live':
        throw new QueueLockedError(dir, error.ownerPid);
      case 'this-process':
        throw new QueueLockedError(
          dir,
          error.ownerPid,
          `The command queue in "${dir}" is already open in this process (pid ${error.ownerPid}); close it first.`,
        );
      case 'contended':
        throw new QueueLockedError(
          dir,
          0,
          `Could not take the lock "${path}": it keeps changing (several instances starting at once?). Try again.`,
        );
    }
  }
}
