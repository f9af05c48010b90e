import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir, type TempDir } from '../../../../helpers/tempDir';
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
  it("says in the queue's words who holds the data directory", () => {
    const lock = acquireOwnerLock(temp.path);
    expect(() => acquireOwnerLock(temp.path)).toThrow(/is already open in this process/);
    lock.release();
    writeFileSync(join(temp.path, OWNER_LOCK_FILE), `${process.ppid}\n`);
    let caught: unknown = null;
    try {
      acquireOwnerLock(temp.path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(QueueLockedError);
    expect((caught as QueueLockedError).ownerPid).toBe(process.ppid);
    expect((caught as QueueLockedError).message).toMatch(/is in use by another process/);
  });
});
