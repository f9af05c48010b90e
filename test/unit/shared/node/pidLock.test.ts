import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquirePidLock, LockHeldError } from '../../../../shared/node/pidLock';
import { createTempDir, type TempDir } from '../../../helpers/tempDir';

let temp: TempDir;
let lockPath = '';

beforeEach(async () => {
  temp = await createTempDir('descartes-lock-');
  lockPath = join(temp.path, 'the.lock');
});

afterEach(async () => {
  await temp.remove();
});

const heldError = (take: () => unknown): LockHeldError => {
  try {
    take();
  } catch (error) {
    if (error instanceof LockHeldError) return error;
    throw error;
  }
  throw new Error('the lock was taken');
};

describe('acquirePidLock', () => {
  it('writes our pid, leaves no temp files, and can be taken again after release', () => {
    const lock = acquirePidLock(lockPath);
    expect(lock.recoveredStale).toBe(false);
    expect(readFileSync(lockPath, 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect(readdirSync(temp.path)).toEqual(['the.lock']);
    const error = heldError(() => acquirePidLock(lockPath));
    expect([error.reason, error.ownerPid]).toEqual(['this-process', process.pid]);
    lock.release();
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
    acquirePidLock(lockPath).release();
  });

  it('refuses a lock of a live process, naming it, and leaves that lock alone', () => {
    // Our parent is alive and is not us.
    writeFileSync(lockPath, `${process.ppid}\n`);
    const error = heldError(() => acquirePidLock(lockPath));
    expect([error.reason, error.ownerPid]).toEqual(['live', process.ppid]);
    expect(readFileSync(lockPath, 'utf8')).toBe(`${process.ppid}\n`);
    expect(readdirSync(temp.path)).toEqual(['the.lock']);
  });

  it('takes over a lock of a dead pid, an unreadable one, and one naming our own pid that we do not hold', () => {
    for (const stale of ['2147483646\n', 'garbage', `${process.pid}\n`]) {
      writeFileSync(lockPath, stale);
      const lock = acquirePidLock(lockPath);
      expect(lock.recoveredStale).toBe(true);
      expect(readdirSync(temp.path)).toEqual(['the.lock']);
      lock.release();
    }
  });

  it('release does not delete a lock that now belongs to someone else', () => {
    const lock = acquirePidLock(lockPath);
    writeFileSync(lockPath, '1\n');
    lock.release();
    expect(readFileSync(lockPath, 'utf8')).toBe('1\n');
  });
});
