import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import type { CommandQueueOptions } from '../../../../../main/core/queue/commandQueue';
import type { SqliteCommandStore } from '../../../../../main/core/queue/sqliteCommandStore';
import { controlCommand, observed, ok, openStore, refused } from './queueTestKit';
import type { StoreEvent } from './queueTestKit';

let temp: TempDir;
let store: SqliteCommandStore;
let queue: CommandQueue;

beforeEach(async () => {
  temp = await createTempDir('descartes-behind-');
});

afterEach(async () => {
  queue.close();
  await temp.remove();
});

function open(options: CommandQueueOptions = {}): CommandQueue {
  store = openStore(temp.path);
  queue = new CommandQueue(store, options);
  return queue;
}

async function enqueueMany(q: CommandQueue, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await q.enqueue('s1', controlCommand())).id);
  return ids;
}

describe('settleAndSendNext (one transaction per dispatcher step)', () => {
  it('settles the replies and hands out the slots they free, in order', async () => {
    const q = open();
    const ids = await enqueueMany(q, 6);
    q.sendNext('s1', 2);
    const step = q.settleAndSendNext(
      's1',
      [
        { id: ids[0] as string, outcome: ok },
        { id: ids[1] as string, outcome: refused },
      ],
      2,
    );
    expect(step.settled.map((c) => [c.id, c.state])).toEqual([
      [ids[0], 'succeeded'],
      [ids[1], 'failed'],
    ]);
    expect(step.sending.map((c) => c.id)).toEqual(ids.slice(2, 4));
    expect(store.get(ids[0] as string)?.state).toBe('succeeded');
    expect(store.get(ids[3] as string)?.state).toBe('sending');
  });

  it('with window 0 only settles; a timed-out command frees no slot', async () => {
    const q = open();
    const ids = await enqueueMany(q, 6);
    q.sendNext('s1', 2);
    q.markTimedOut(ids[0] as string);
    expect(q.settleAndSendNext('s1', [{ id: ids[1] as string, outcome: ok }], 0).sending).toEqual([]);
    // One slot of two is taken by nothing now (ids[0] timed out, ids[1] settled): two go out,
    // not three, although the late reply to ids[0] is settled in the same step.
    const step = q.settleAndSendNext('s1', [{ id: ids[0] as string, outcome: ok }], 2);
    expect(step.settled.map((c) => c.id)).toEqual([ids[0]]);
    expect(step.sending.map((c) => c.id)).toEqual(ids.slice(2, 4));
  });

  it('refuses a negative window by name', () => {
    const q = open();
    expect(() => q.settleAndSendNext('s1', [], -1)).toThrow(/window must be a non-negative integer, got -1/);
  });
});

describe('write-behind sending marks (dedupe servers)', () => {
  it('marks in memory at once and writes nothing until something needs it', async () => {
    const q = open();
    const ids = await enqueueMany(q, 3);
    const sent = q.sendNext('s1', 2, 'writeBehind');
    expect(sent.map((c) => [c.id, c.state, c.attempts])).toEqual([
      [ids[0], 'sending', 1],
      [ids[1], 'sending', 1],
    ]);
    expect(q.get(ids[0] as string)?.state).toBe('sending');
    expect(q.sendNext('s1', 2)).toEqual([]);
    expect(store.get(ids[0] as string)?.state).toBe('queued');
  });

  it('a settle writes the row once, with the mark’s attempt and send time', async () => {
    const q = open();
    const [id] = await enqueueMany(q, 1);
    const [sent] = q.sendNext('s1', 1, 'writeBehind');
    q.settleAndSendNext('s1', [{ id: id as string, outcome: ok }], 0, { durable: false });
    const row = store.get(id as string);
    expect(row?.state).toBe('succeeded');
    expect(row?.attempts).toBe(1);
    expect(row?.sentAt).toBe(sent?.sentAt);
  });

  it('list() writes held marks first, so it reports what memory reports', async () => {
    const q = open();
    await enqueueMany(q, 3);
    q.sendNext('s1', 2, 'writeBehind');
    expect(q.list('s1', ['sending'])).toHaveLength(2);
    expect(q.list('s1', ['queued'])).toHaveLength(1);
  });

  it('sending() reports held marks from memory, in order, without writing them', async () => {
    const q = open();
    const ids = await enqueueMany(q, 3);
    q.sendNext('s1', 2, 'writeBehind');
    expect(q.sending('s1').map((c) => c.id)).toEqual(ids.slice(0, 2));
    expect(q.sending('other')).toEqual([]);
    expect(store.get(ids[0] as string)?.state).toBe('queued');
  });

  it('held marks are written within syncLagMs, and made durable', async () => {
    const q = open({ syncLagMs: 20 });
    const [id] = await enqueueMany(q, 1);
    q.sendNext('s1', 1, 'writeBehind');
    expect(store.get(id as string)?.state).toBe('queued');
    await delay(200);
    expect(store.get(id as string)?.state).toBe('sending');
    expect(store.hasUnsyncedWrites).toBe(false);
  });

  it('close() writes held marks and clears the send frontier: a reopened queue sees exactly those sending', async () => {
    const q = open();
    const ids = await enqueueMany(q, 5);
    q.sendNext('s1', 2, 'writeBehind');
    expect(store.sendFrontiers().get('s1')).toBeGreaterThan(0);
    q.close();
    const again = open();
    expect(store.sendFrontiers().size).toBe(0);
    expect(again.list('s1', ['sending']).map((c) => c.id)).toEqual(ids.slice(0, 2));
    expect(again.list('s1', ['queued']).every((c) => c.attempts === 0)).toBe(true);
  });

  it('a requeue or a time-out of a marked command supersedes its held mark', async () => {
    const q = open();
    const ids = await enqueueMany(q, 2);
    q.sendNext('s1', 2, 'writeBehind');
    q.requeueUnsent(ids[0] as string);
    q.markTimedOut(ids[1] as string);
    q.list('s1'); // writes whatever marks are still held
    expect(store.get(ids[0] as string)?.state).toBe('queued');
    expect(store.get(ids[1] as string)).toMatchObject({ state: 'timed_out', attempts: 1 });
  });

  it('a failed background flush is reported and keeps the marks held', async () => {
    const errors: unknown[] = [];
    const q = open({ syncLagMs: 10, onSyncError: (e) => errors.push(e) });
    const [id] = await enqueueMany(q, 1);
    q.sendNext('s1', 1, 'writeBehind');
    store.close(); // the disk goes away under the queue
    await delay(100);
    expect(errors.length).toBeGreaterThan(0);
    expect(String(errors[0])).toMatch(/closed/i);
    expect(q.get(id as string)?.state).toBe('sending');
    // Closing cannot write them either, and says so (once: close is idempotent).
    expect(() => {
      q.close();
    }).toThrow(/closed/i);
  });
});

describe('the send frontier of a long drain', () => {
  it('moves ahead in the background, never more than 256 commands past those handed out', async () => {
    const events: StoreEvent[] = [];
    store = openStore(temp.path);
    queue = new CommandQueue(observed(store, events), { maxPending: 2000 });
    await Promise.all(Array.from({ length: 1500 }, () => queue.enqueue('s1', controlCommand())));
    let handedOut = 0;
    for (let batch = queue.sendNext('s1', 16, 'writeBehind'); batch.length > 0;) {
      handedOut = Math.max(handedOut, ...batch.map((c) => c.seq));
      const last = events[events.length - 1];
      if (last?.kind === 'frontier' && last.seq !== null) {
        // Written at this step: at most the reserve past the last command handed out.
        expect(last.seq - handedOut).toBeLessThanOrEqual(256);
      }
      // As a dispatcher does: the replies come, are settled, and the next window goes out.
      queue.settleAndSendNext(
        's1',
        batch.map((c) => ({ id: c.id, outcome: ok })),
        0,
        { durable: false },
      );
      // Let background fsyncs end, as they do between replies on a real connection.
      const started = (): number => events.filter((e) => e.kind === 'sync-start').length;
      const ended = (): number => events.filter((e) => e.kind === 'sync-end').length;
      while (ended() < started()) await delay(1);
      await delay(0);
      batch = queue.sendNext('s1', 16, 'writeBehind');
    }
    expect(queue.pendingCount('s1')).toBe(0);
    const frontiers = events.filter((e) => e.kind === 'frontier' && e.seq !== null);
    // Only the first move waited for the disk; every later one was made ahead, in the background.
    expect(frontiers.filter((e) => e.kind === 'frontier' && e.durable)).toHaveLength(1);
    expect(frontiers.length).toBeGreaterThan(4);
  });
});

describe('durable: false writes', () => {
  it('are synced by the queue within syncLagMs, or at once by close()', async () => {
    const q = open({ syncLagMs: 20 });
    await enqueueMany(q, 2);
    expect(store.hasUnsyncedWrites).toBe(false);
    q.sendNext('s1', 1, 'unsynced');
    expect(store.hasUnsyncedWrites).toBe(true);
    await delay(200);
    expect(store.hasUnsyncedWrites).toBe(false);
    q.sendNext('s1', 2, 'unsynced');
    expect(store.hasUnsyncedWrites).toBe(true);
    q.close();
    expect(store.hasUnsyncedWrites).toBe(false);
  });

  it('a durable write afterwards covers them (the log is synced as a whole)', async () => {
    const q = open({ syncLagMs: 60_000 });
    await enqueueMany(q, 1);
    q.sendNext('s1', 1, 'unsynced');
    expect(store.hasUnsyncedWrites).toBe(true);
    await q.enqueue('s1', controlCommand());
    expect(store.hasUnsyncedWrites).toBe(false);
  });

  it('refuses a negative syncLagMs by name', () => {
    store = openStore(temp.path);
    expect(() => new CommandQueue(store, { syncLagMs: -1 })).toThrow(
      /syncLagMs must be a non-negative number/,
    );
    queue = new CommandQueue(store);
  });
});
