import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import { OWNER_LOCK_FILE, acquireOwnerLock } from '../../../../../main/core/queue/ownerLock';
import { QueueLockedError } from '../../../../../main/core/queue/queueErrors';

let temp: TempDir;

beforeEach(async () => {
  temp = await createTempDir('descartes-lock-');
});

afterEach(async () => {
  await temp.remove();
});

describe('acquireOwnerLock', () => {
  it('writes our pid, leaves no temp files, and can be taken again after release', () => {
    const lock = acquireOwnerLock(temp.path);
    expect(lock.recoveredStale).toBe(false);
    expect(readFileSync(join(temp.path, OWNER_LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect(readdirSync(temp.path)).toEqual([OWNER_LOCK_FILE]);
    expect(() => acquireOwnerLock(temp.path)).toThrow(QueueLockedError);
    lock.release();
    lock.release();
    expect(existsSync(join(temp.path, OWNER_LOCK_FILE))).toBe(false);
    acquireOwnerLock(temp.path).release();
  });

  it('treats a lock naming our own pid that we do not hold as stale (a reused pid)', () => {
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), `${process.pid}\n`);
    const lock = acquireOwnerLock(temp.path);
    expect(lock.recoveredStale).toBe(true);
    lock.release();
  });

  it('release does not delete a lock that now belongs to someone else', () => {
    const lock = acquireOwnerLock(temp.path);
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), '1\n');
    lock.release();
    expect(readFileSync(join(temp.path, OWNER_LOCK_FILE), 'utf8')).toBe('1\n');
  });
});
