/**
 * A full disk: the write that hits it fails with an error that says the disk is full and what
 * was kept, nothing half-written stays behind, and the queue works again once there is room.
 *
 * How the disk gets full, honestly and without root: an unprivileged test cannot mount a tiny
 * tmpfs, and filling the real disk would hurt everyone on it. SQLite's own size cap,
 * `PRAGMA max_page_count`, makes the engine fail a write that needs one more page with the
 * very error a full disk gives it (SQLITE_FULL, "database or disk is full"), through the same
 * statement, rollback and error path. The cap is set on the store's own connection (a
 * per-connection setting, so it is read from the private field for this alone).
 */
import type { Database } from 'node-sqlite3-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import { DiskFullError } from '../../../../../main/core/queue/queueErrors';
import { isDiskFull } from '../../../../../main/core/queue/diskFull';
import type { SqliteCommandStore } from '../../../../../main/core/queue/sqliteCommandStore';
import { controlCommand, newCommand, openQueue, openStore, spawnRequest } from './queueTestKit';

let temp: TempDir;

beforeEach(async () => {
  temp = await createTempDir('descartes-diskfull-');
});
afterEach(async () => {
  await temp.remove();
});

/** Caps the database at its current size plus `spare` pages. */
function capPages(store: SqliteCommandStore, spare: number): void {
  const db = (store as unknown as { db: Database }).db;
  const count = (db.get('PRAGMA page_count') as { page_count: number }).page_count;
  db.exec(`PRAGMA max_page_count = ${count + spare}`);
}

function uncap(store: SqliteCommandStore): void {
  (store as unknown as { db: Database }).db.exec('PRAGMA max_page_count = 4294967294');
}

describe('a full disk', () => {
  it('refuses the enqueue that does not fit, saying so and how many queued commands are kept; the rest stays', async () => {
    const store = openStore(temp.path);
    const queue = new CommandQueue(store, { maxPending: 10_000 });
    capPages(store, 3);
    const stored: string[] = [];
    let refused: unknown = null;
    // A spawn with a large task: a few fit in the spare pages, then one does not.
    for (let i = 0; i < 50 && refused === null; i++) {
      const request = spawnRequest(`big-${i}`);
      request.config.task = 'x'.repeat(3000);
      try {
        stored.push((await queue.enqueue(i % 2 === 0 ? 's1' : 's2', request)).id);
      } catch (error) {
        refused = error;
      }
    }
    expect(stored.length).toBeGreaterThan(0);
    expect(refused).toBeInstanceOf(DiskFullError);
    expect((refused as Error).message).toBe(
      `The disk is full (${temp.path}): the command was not queued (spawn agent "big-${stored.length}" (shell)). ` +
        `The ${stored.length} command(s) already queued are kept and will still be sent, and the history is kept. ` +
        'Free some disk space and try again.',
    );
    expect((refused as { cause?: unknown }).cause).toBeInstanceOf(DiskFullError);
    // Nothing of the refused command: not in memory, not on disk.
    expect(queue.list(undefined, undefined, 1000).map((c) => c.id)).toEqual(stored);

    // Room again: the queue goes on as if nothing happened.
    uncap(store);
    const after = await queue.enqueue('s1', controlCommand());
    queue.close();
    const again = openQueue(temp.path);
    try {
      expect(again.list(undefined, undefined, 1000).map((c) => c.id)).toEqual([...stored, after.id]);
    } finally {
      again.close();
    }
  });

  it('under a burst of enqueues (one batch), keeps exactly those that resolved and forgets the rest', async () => {
    const store = openStore(temp.path);
    const queue = new CommandQueue(store, { maxPending: 10_000 });
    const kept = await queue.enqueue('s1', controlCommand());
    capPages(store, 3);
    const requests = Array.from({ length: 40 }, (_, i) => {
      const request = spawnRequest(`burst-${i}`);
      request.config.task = 'z'.repeat(3000);
      return request;
    });
    const outcomes = await Promise.allSettled(requests.map((r) => queue.enqueue('s1', r)));
    const resolved = requests.filter((_, i) => outcomes[i]?.status === 'fulfilled').map((r) => r.request_id);
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    // SQLite may undo the whole batch on a full disk, taking rows that had fit with it: those
    // enqueues are refused too, rather than resolved for rows that are not there.
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(DiskFullError);
      expect((error as Error).message).toMatch(
        /^The disk is full \(.*\): the command was not queued \(spawn agent "burst-\d+" \(shell\)\)/,
      );
    }
    // In memory and on disk: the one before and those that resolved, nothing of the rest.
    const expected = [kept.id, ...resolved];
    expect(queue.list('s1', undefined, 1000).map((c) => c.id)).toEqual(expected);
    expect(queue.pendingCount('s1')).toBe(expected.length);
    uncap(store);
    queue.close();
    const again = openQueue(temp.path);
    try {
      expect(again.list('s1', undefined, 1000).map((c) => c.id)).toEqual(expected);
    } finally {
      again.close();
    }
  });

  it('fails a multi-row transaction whole, and the queue goes on once there is room', async () => {
    const store = openStore(temp.path);
    const queue = new CommandQueue(store, { maxPending: 10_000 });
    try {
      for (let i = 0; i < 40; i++) await queue.enqueue('s1', controlCommand());
      capPages(store, 0);
      const failed = (() => {
        try {
          store.transaction(() => {
            for (let i = 0; i < 200; i++) {
              const r = spawnRequest(`t${i}`);
              r.config.task = 'y'.repeat(2000);
              store.insert(newCommand('s9', r, 'big'));
            }
          });
          return null;
        } catch (error) {
          return error;
        }
      })();
      expect(failed).toBeInstanceOf(DiskFullError);
      expect((failed as Error).message).toContain(
        `The disk holding the command queue (${temp.path}) is full: could not store command `,
      );
      expect((failed as Error).message).toContain(
        'Nothing of that was stored; everything stored before is kept.',
      );
      expect(queue.list('s9')).toEqual([]);
      expect(queue.pendingCount('s1')).toBe(40);
      uncap(store);
      expect(queue.sendNext('s1', 16)).toHaveLength(16);
    } finally {
      queue.close();
    }
  });

  it('tells a full disk from other failures by what the engine and the file system say', () => {
    expect(isDiskFull(new Error('database or disk is full'), temp.path)).toBe(true);
    expect(isDiskFull(Object.assign(new Error('write failed'), { code: 'ENOSPC' }), temp.path)).toBe(true);
    // An I/O error on a disk with room is not called full.
    expect(isDiskFull(new Error('disk I/O error'), temp.path)).toBe(false);
    expect(isDiskFull(new Error('database disk image is malformed'), temp.path)).toBe(false);
  });
});
