/**
 * Group commit of enqueues (docs/ARCHITECTURE.md §3.8): concurrent enqueues share an fsync of
 * the log, each resolves only after an fsync that began after its row was committed, a failed
 * fsync rejects every enqueue that waited on it, and a lone enqueue waits for no timer.
 * Real stores on real files; the store's own `insert` / `syncInBackground` seam is observed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import { StoreFailureError } from '../../../../../main/core/queue/queueErrors';
import type { CommandChange } from '../../../../../shared/domain/command';
import { breakLogSync, controlCommand, observed, openQueue, openStore, queuedIds } from './queueTestKit';
import type { StoreEvent } from './queueTestKit';

let temp: TempDir;
beforeEach(async () => {
  temp = await createTempDir('descartes-groupcommit-');
});
afterEach(async () => {
  vi.useRealTimers();
  await temp.remove();
});

describe('concurrent enqueues (group commit)', () => {
  it('share fsyncs, and each resolves only after an fsync that began after its row was written', async () => {
    const events: StoreEvent[] = [];
    const resolvedAt = new Map<string, number>();
    const queue = new CommandQueue(observed(openStore(temp.path), events), { maxPending: 1000 });
    const announced: CommandChange[] = [];
    queue.onChange((change) => announced.push(change));
    const requests = Array.from({ length: 200 }, () => controlCommand());
    const results = await Promise.all(
      requests.map((request) =>
        queue.enqueue('s1', request).then((command) => {
          resolvedAt.set(command.id, events.length);
          return command;
        }),
      ),
    );
    expect(results.map((c) => c.id)).toEqual(requests.map((r) => r.request_id));
    const syncs = events.filter((e) => e.kind === 'sync-start').length;
    // One fsync for the whole burst (a second only for rows that came while it ran).
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(2);
    for (const request of requests) {
      const inserted = events.findIndex((e) => e.kind === 'insert' && e.id === request.request_id);
      const resolved = resolvedAt.get(request.request_id) ?? -1;
      const covering = events.findIndex(
        (e, i) =>
          e.kind === 'sync-start' &&
          i > inserted &&
          events.findIndex((f) => f.kind === 'sync-end' && f.sync === e.sync) < resolved,
      );
      expect(
        covering,
        `an fsync after the insert of ${request.request_id}, ended before it resolved`,
      ).not.toBe(-1);
    }
    // Announced once durable, each once, in issue order.
    expect(announced.map((c) => [c.type, c.command.id])).toEqual(
      requests.map((r) => ['enqueued', r.request_id]),
    );
    queue.close();
    const again = openQueue(temp.path, { maxPending: 1000 });
    try {
      expect(queuedIds(again, 's1')).toEqual(requests.map((r) => r.request_id));
    } finally {
      again.close();
    }
  });

  it('hands out no command before its enqueue has resolved', async () => {
    const queue = openQueue(temp.path);
    try {
      const pending = queue.enqueue('s1', controlCommand());
      // Committed and counted, but its fsync is still owed: not to be sent yet.
      expect(queue.pendingCount('s1')).toBe(1);
      expect(queue.sendNext('s1', 4, 'writeBehind')).toEqual([]);
      const command = await pending;
      expect(queue.sendNext('s1', 4, 'writeBehind').map((c) => c.id)).toEqual([command.id]);
    } finally {
      queue.close();
    }
  });

  it('a lone enqueue pays one fsync and waits for no timer', async () => {
    const events: StoreEvent[] = [];
    const queue = new CommandQueue(observed(openStore(temp.path), events));
    try {
      // Timers frozen: an enqueue that waited for a batching delay would never resolve.
      vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate'] });
      const command = await queue.enqueue('s1', controlCommand());
      expect(events).toEqual([
        { kind: 'insert', id: command.id },
        { kind: 'sync-start', sync: 1 },
        { kind: 'sync-end', sync: 1 },
      ]);
    } finally {
      vi.useRealTimers();
      queue.close();
    }
  });
});

describe.runIf(process.platform === 'linux')('a failed fsync under a burst of enqueues', () => {
  it('rejects every enqueue that waited on it with the error that names the risk, and loses nothing', async () => {
    const store = openStore(temp.path);
    const queue = new CommandQueue(store);
    const kept = await queue.enqueue('s1', controlCommand());
    breakLogSync(store, temp.path);
    const requests = Array.from({ length: 5 }, () => controlCommand());
    const outcomes = await Promise.allSettled(requests.map((request) => queue.enqueue('s1', request)));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error: unknown = outcome.status === 'rejected' ? outcome.reason : null;
      expect(error).toBeInstanceOf(StoreFailureError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `could not make 5 commands enqueued together \\(the first ${requests[0]?.request_id ?? ''}\\) durable \\(.*EINVAL.*\\): ` +
            'it is written but may not survive a crash, and may still take effect after a restart',
        ),
      );
    }
    // Later writes are refused: a later fsync could succeed for pages the kernel dropped.
    await expect(queue.enqueue('s1', controlCommand())).rejects.toThrow(
      /an earlier fsync of the command database failed/,
    );
    queue.close();
    // Nothing lost: the command kept before, and the rejected ones (written, as the error warns).
    const again = openQueue(temp.path);
    try {
      expect(queuedIds(again, 's1')).toEqual([kept.id, ...requests.map((r) => r.request_id)]);
    } finally {
      again.close();
    }
  });
});
