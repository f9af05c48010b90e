/**
 * The enqueues of one burst share one transaction (docs/ARCHITECTURE.md §3.8): their rows reach
 * the log in one commit, any other write commits the batch before its own, a failure inside the
 * batch fails only what it concerns, and a batch that cannot be committed fails every enqueue
 * of it and leaves nothing behind, in memory or on disk. Real stores on real files.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import { DuplicateCommandError, StoreFailureError } from '../../../../../main/core/queue/queueErrors';
import { DATABASE_FILE } from '../../../../../main/core/queue/sqliteCommandStore';
import type { CommandChange } from '../../../../../shared/domain/command';
import { controlCommand, newCommand, openQueue, openStore, queuedIds } from './queueTestKit';

/** SQLite's WAL: a 32-byte file header, then per page written a 24-byte frame header and the page. */
const WAL_HEADER = 32;
const FRAME = 24 + 4096;

let temp: TempDir;
beforeEach(async () => {
  temp = await createTempDir('descartes-batch-');
});
afterEach(async () => {
  await temp.remove();
});

/** What `read` finds in a queue opened again on the same directory (then closed). */
function afterReopen<T>(read: (queue: CommandQueue) => T): T {
  const again = openQueue(temp.path);
  try {
    return read(again);
  } finally {
    again.close();
  }
}

function walBytes(): number {
  return statSync(join(temp.path, `${DATABASE_FILE}-wal`)).size;
}

describe('a burst of enqueues', () => {
  it('reaches the log in one commit: a few frames for the whole burst, not a few per row', async () => {
    const queue = openQueue(temp.path, { maxPending: 1000 });
    try {
      await queue.enqueue('s1', controlCommand());
      const before = walBytes();
      const requests = Array.from({ length: 200 }, () => controlCommand());
      await Promise.all(requests.map((r) => queue.enqueue('s1', r)));
      const frames = (walBytes() - Math.max(before, WAL_HEADER)) / FRAME;
      // One commit per row would write its table leaf and two index leaves each: 600 frames.
      // One commit writes each touched page once: about 200 rows × ~250 bytes / 4 KiB + the indexes.
      expect(frames).toBeGreaterThan(0);
      expect(frames).toBeLessThan(60);
    } finally {
      queue.close();
    }
  });

  it('is committed before any other write of the same run, whose announcement comes after theirs', async () => {
    const queue = openQueue(temp.path);
    const announced: string[] = [];
    queue.onChange((change: CommandChange) => announced.push(`${change.type} ${change.command.id}`));
    const a = controlCommand();
    const b = controlCommand();
    const pending = [queue.enqueue('s1', a), queue.enqueue('s1', b)];
    // In the same synchronous run: a durable write (its own transaction) while the batch is open.
    expect(queue.cancel(a.request_id).state).toBe('cancelled');
    await Promise.all(pending);
    expect(announced).toEqual([
      `enqueued ${a.request_id}`,
      `enqueued ${b.request_id}`,
      `updated ${a.request_id}`,
    ]);
    queue.close();
    expect(afterReopen((q) => [q.get(a.request_id)?.state, queuedIds(q, 's1')])).toEqual([
      'cancelled',
      [b.request_id],
    ]);
  });

  it('fails only the enqueue whose request_id was used before; the rest of the batch is kept', async () => {
    const queue = openQueue(temp.path);
    const a = controlCommand();
    const c = controlCommand();
    const outcomes = await Promise.allSettled([
      queue.enqueue('s1', a),
      queue.enqueue('s1', { ...controlCommand(), request_id: a.request_id }),
      queue.enqueue('s1', c),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [, duplicate] = outcomes;
    expect(duplicate.status === 'rejected' ? duplicate.reason : null).toBeInstanceOf(DuplicateCommandError);
    expect(queue.pendingCount('s1')).toBe(2);
    queue.close();
    expect(afterReopen((q) => queuedIds(q, 's1'))).toEqual([a.request_id, c.request_id]);
  });

  it('left open when the store is closed is committed, not dropped', () => {
    const store = openStore(temp.path);
    const queue = new CommandQueue(store);
    const request = controlCommand();
    // The promise is left to the close, which makes the row durable and resolves it.
    const pending = queue.enqueue('s1', request);
    expect(store.hasUnsyncedWrites).toBe(true);
    queue.close();
    expect(afterReopen((q) => queuedIds(q, 's1'))).toEqual([request.request_id]);
    return expect(pending).resolves.toMatchObject({ id: request.request_id });
  });

  it('is not used by a store nobody listens to: each batched insert then commits alone', () => {
    const store = openStore(temp.path);
    const request = controlCommand();
    store.insert(newCommand('s1', request), { batch: true });
    // Committed (not durable yet): a transaction can start, which it could not inside a batch
    // that nothing would ever commit.
    expect(store.hasUnsyncedWrites).toBe(true);
    store.transaction(() => store.insert(newCommand('s1')));
    expect(store.hasUnsyncedWrites).toBe(false);
    store.close();
    expect(afterReopen((q) => queuedIds(q, 's1'))[0]).toBe(request.request_id);
  });
});

/**
 * Lowers this process's file size limit (RLIMIT_FSIZE, soft) so that a write past `bytes`
 * fails with EFBIG (Node ignores SIGXFSZ): a real failed write of the log, without root.
 * @returns a function that lifts the limit again
 */
function limitFileSize(bytes: number): () => void {
  const set = (limit: string): void => {
    execFileSync('prlimit', ['--pid', String(process.pid), `--fsize=${limit}:`]);
  };
  set(String(bytes));
  return () => {
    set('unlimited');
  };
}

function hasPrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(process.platform === 'linux' && hasPrlimit())('a burst whose commit fails', () => {
  it('rejects every enqueue of it, keeps none of its rows in memory or on disk, and the queue goes on', async () => {
    const queue = openQueue(temp.path, { maxPending: 1000 });
    const kept = await queue.enqueue('s1', controlCommand());
    const requests = Array.from({ length: 50 }, () => controlCommand());
    // The log may not grow: the batch's commit, which appends its frames, fails.
    const lift = limitFileSize(walBytes());
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      outcomes = await Promise.allSettled(requests.map((r) => queue.enqueue('s1', r)));
    } finally {
      lift();
    }
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error: unknown = outcome.status === 'rejected' ? outcome.reason : null;
      expect(error).toBeInstanceOf(StoreFailureError);
      expect((error as Error).message).toMatch(/could not store 50 command\(s\) enqueued together/);
    }
    // Forgotten: not counted, not listed, never handed out.
    expect(queue.pendingCount('s1')).toBe(1);
    expect(queue.list('s1').map((c) => c.id)).toEqual([kept.id]);
    expect(queue.sendNext('s1', 100).map((c) => c.id)).toEqual([kept.id]);
    // Nothing was fsync'd wrongly, so the store still takes writes, the same ids included.
    const retried = await queue.enqueue('s1', requests[0] ?? controlCommand());
    queue.close();
    expect(afterReopen((q) => q.list('s1').map((c) => c.id))).toEqual([kept.id, retried.id]);
  });
});
