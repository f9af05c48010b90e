/**
 * One owner per directory, across processes: a lock file holding the owner's pid. The console
 * takes one on its data directory (main/core/queue/ownerLock.ts), the agent server one on its
 * state directory (server/dedupeJournal.ts).
 *
 * A process killed with SIGKILL leaves its lock behind, so a lock whose pid is dead is stale and
 * taken over. Taking it over is the delicate part: deleting a stale lock after reading it races
 * with another process that recovered it in between (it would delete that process's fresh lock,
 * and both would own the directory). So the stale lock is renamed away (atomic: of two
 * processes only one moves it), re-read, and put back if what was moved is not what was judged.
 */
import { linkSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFreshTempFile } from './freshTempFile';
import { isProcessAlive } from './processAlive';
import { isErrno } from './isErrno';

/**
 * The lock is held by someone else. `reason`: `live` — a live process `ownerPid` holds it;
 * `this-process` — this very process holds it already (`ownerPid` is ours); `contended` — it
 * kept changing under us (several processes starting at once; `ownerPid` is 0).
 */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  constructor(
    readonly path: string,
    readonly ownerPid: number,
    readonly reason: 'live' | 'this-process' | 'contended',
  ) {
    super(
      reason === 'live'
        ? `${path} is held by process ${ownerPid}`
        : reason === 'this-process'
          ? `${path} is already held by this process (pid ${ownerPid})`
          : `${path} keeps changing (several processes taking it at once?)`,
    );
  }
}

/** A held lock. */
export interface PidLock {
  /** Absolute path of the lock file. */
  readonly path: string;
  /** True when a lock left by a dead process was removed to take this one. */
  readonly recoveredStale: boolean;
  /** Releases the lock: deletes the file if it still names us. Idempotent; never throws. */
  release(): void;
}

/** Paths this process holds, so a reused pid of our own is told apart from our live lock. */
const held = new Set<string>();

/** Attempts before giving up with `contended`: each lost round means another process moved. */
const ATTEMPTS = 5;

/** The pid a lock file names; null when unreadable or not a pid; 'gone' when there is no file. */
function readPid(path: string): number | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'gone';
    throw error;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean up.
  }
}

/**
 * Takes the lock file at `lockPath` (its directory must exist).
 *
 * The file (`<pid>\n<ISO time>\n`) is written in full under a temporary name and hard-linked
 * into place, so nobody ever reads a half-written lock. A lock whose pid is dead or unreadable
 * is stale; a lock naming our own pid that this process does not hold is a leftover of an
 * earlier process that had our pid, and stale too.
 *
 * @throws LockHeldError when a live process (or this one) holds the lock, or it keeps changing
 * @throws the file system's error (EACCES, ENOSPC, …) when the lock cannot be written
 */
export function acquirePidLock(lockPath: string): PidLock {
  const path = resolve(lockPath);
  if (held.has(path)) throw new LockHeldError(path, process.pid, 'this-process');
  const temp = writeFreshTempFile(path, `${process.pid}\n${new Date().toISOString()}\n`);
  let recoveredStale = false;
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        linkSync(temp, path);
        held.add(path);
        return heldLock(path, recoveredStale);
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      const seen = readPid(path);
      if (seen === 'gone') continue;
      if (seen !== null && seen !== process.pid && isProcessAlive(seen)) {
        throw new LockHeldError(path, seen, 'live');
      }
      const grave = `${temp}.stale`;
      try {
        renameSync(path, grave);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue;
        throw error;
      }
      const moved = readPid(grave);
      const movedPid = moved === 'gone' ? null : moved;
      if (movedPid !== seen && movedPid !== null && isProcessAlive(movedPid)) {
        // Someone else recovered it first and we moved their fresh lock: put it back. Only a
        // third process recovering in this very instant could take the path first (the link
        // then fails): two contenders are safe, three have this one narrow window left.
        try {
          linkSync(grave, path);
        } catch (error) {
          if (!isErrno(error, 'EEXIST')) throw error;
        } finally {
          tryUnlink(grave);
        }
        throw new LockHeldError(path, movedPid, 'live');
      }
      tryUnlink(grave);
      recoveredStale = true;
    }
    throw new LockHeldError(path, 0, 'contended');
  } finally {
    tryUnlink(temp);
  }
}

function heldLock(path: string, recoveredStale: boolean): PidLock {
  let released = false;
  return {
    path,
    recoveredStale,
    release: () => {
      if (released) return;
      released = true;
      held.delete(path);
      let pid: number | null | 'gone';
      try {
        pid = readPid(path);
      } catch {
        return; // unreadable: not provably ours, so leave it
      }
      if (pid === process.pid) tryUnlink(path);
    },
  };
}
