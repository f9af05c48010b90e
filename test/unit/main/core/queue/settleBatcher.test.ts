import { describe, expect, it } from 'vitest';
import type { CommandChange } from '../../../../../shared/domain/command';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import type { SqliteCommandStore } from '../../../../../main/core/queue/sqliteCommandStore';
import {
  SettleBatcher,
  type SettleParticipant,
  type SettleStep,
} from '../../../../../main/core/queue/settleBatcher';
import { controlCommand, ok, openStore, useQueueDir } from './queueTestKit';

const open = useQueueDir('descartes-settles-');

/** A queue over a real store whose transactions are counted. */
function countedQueue(): { queue: CommandQueue; store: SqliteCommandStore; transactions: () => number } {
  const store = openStore(open.dir());
  let transactions = 0;
  const transaction = store.transaction.bind(store);
  store.transaction = (work, options) => {
    transactions++;
    return transaction(work, options);
  };
  return { queue: new CommandQueue(store), store, transactions: () => transactions };
}

async function enqueue(q: CommandQueue, serverId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await q.enqueue(serverId, controlCommand())).id);
  return ids;
}

/** A participant that hands over one step and records what the batcher told it. */
function participant(step: SettleStep | null): SettleParticipant & { readonly told: string[] } {
  const told: string[] = [];
  return {
    told,
    take: () => step,
    done: (result) => {
      told.push(`done ${result.settled.length}/${result.sending.length}`);
    },
    failed: (error) => {
      told.push(`failed ${String(error)}`);
    },
  };
}

describe('settleAndSendMany (one transaction for every dispatcher of a queue)', () => {
  it('settles and refills two servers in ONE transaction, announcing every settle before any mark', async () => {
    const { queue, store, transactions } = countedQueue();
    try {
      const a = await enqueue(queue, 'a', 3);
      const b = await enqueue(queue, 'b', 3);
      queue.sendNext('a', 1);
      queue.sendNext('b', 1);
      const changes: CommandChange[] = [];
      queue.onChange((c) => changes.push(c));
      const before = transactions();
      const [ra, rb] = queue.settleAndSendMany([
        { serverId: 'a', items: [{ id: a[0] as string, outcome: ok }], window: 1, durable: false },
        { serverId: 'b', items: [{ id: b[0] as string, outcome: ok }], window: 1, durable: true },
      ]);
      expect(transactions() - before).toBe(1);
      expect(ra?.settled.map((c) => c.id)).toEqual([a[0]]);
      expect(ra?.sending.map((c) => c.id)).toEqual([a[1]]);
      expect(rb?.settled.map((c) => c.id)).toEqual([b[0]]);
      expect(rb?.sending.map((c) => c.id)).toEqual([b[1]]);
      expect(changes.map((c) => c.command.state)).toEqual(['succeeded', 'succeeded', 'sending', 'sending']);
      // A durable step made the shared transaction durable.
      expect(store.hasUnsyncedWrites).toBe(false);
      expect(store.get(b[0] as string)?.state).toBe('succeeded');
    } finally {
      queue.close();
    }
  });

  it('a server named twice sends only from its first step: nothing is handed out twice', async () => {
    const { queue } = countedQueue();
    try {
      const a = await enqueue(queue, 'a', 4);
      const results = queue.settleAndSendMany([
        { serverId: 'a', items: [], window: 2, durable: true },
        { serverId: 'a', items: [], window: 2, durable: true },
      ]);
      expect(results.map((r) => r.sending.map((c) => c.id))).toEqual([a.slice(0, 2), []]);
    } finally {
      queue.close();
    }
  });

  it('refuses a bad window before writing anything', async () => {
    const { queue, transactions } = countedQueue();
    try {
      const [id] = await enqueue(queue, 'a', 1);
      queue.sendNext('a', 1);
      const before = transactions();
      expect(() =>
        queue.settleAndSendMany([
          { serverId: 'a', items: [{ id: id as string, outcome: ok }], window: 1, durable: true },
          { serverId: 'b', items: [], window: -1, durable: true },
        ]),
      ).toThrow(/window must be a non-negative integer, got -1/);
      expect(transactions()).toBe(before);
      expect(queue.get(id as string)?.state).toBe('sending');
    } finally {
      queue.close();
    }
  });
});

describe('SettleBatcher', () => {
  it('flushes every participant scheduled in one turn with one commit, on the next setImmediate', async () => {
    const { queue, transactions } = countedQueue();
    try {
      const a = await enqueue(queue, 'a', 2);
      const b = await enqueue(queue, 'b', 2);
      queue.sendNext('a', 1);
      queue.sendNext('b', 1);
      const pa = participant({
        serverId: 'a',
        items: [{ id: a[0] as string, outcome: ok }],
        window: 1,
        durable: false,
      });
      const pb = participant({
        serverId: 'b',
        items: [{ id: b[0] as string, outcome: ok }],
        window: 1,
        durable: false,
      });
      const idle = participant(null);
      const before = transactions();
      queue.settles.schedule(pa);
      queue.settles.schedule(idle);
      queue.settles.schedule(pb);
      queue.settles.schedule(pa);
      expect(transactions()).toBe(before);
      await new Promise((resolve) => setImmediate(resolve));
      expect(transactions() - before).toBe(1);
      expect([pa.told, pb.told, idle.told]).toEqual([['done 1/1'], ['done 1/1'], []]);
    } finally {
      queue.close();
    }
  });

  it('tells every participant of a failed commit, and a participant whose done throws, that it failed', async () => {
    const { queue } = countedQueue();
    const [id] = await enqueue(queue, 'a', 1);
    queue.sendNext('a', 1);
    const throwing = participant({
      serverId: 'a',
      items: [{ id: id as string, outcome: ok }],
      window: 0,
      durable: true,
    });
    throwing.done = () => {
      throw new Error('send failed');
    };
    const other = participant({ serverId: 'b', items: [], window: 1, durable: true });
    queue.settles.schedule(throwing);
    queue.settles.schedule(other);
    queue.settles.flush();
    expect(other.told).toEqual(['done 0/0']);
    expect(queue.get(id as string)?.state).toBe('succeeded');
    queue.close();
    // After close the commit refuses: both hear of it, nothing throws out of the flush.
    const late = [
      participant({ serverId: 'a', items: [], window: 1, durable: true }),
      participant({ serverId: 'b', items: [], window: 1, durable: true }),
    ];
    for (const p of late) queue.settles.schedule(p);
    queue.settles.flush();
    expect(late.map((p) => p.told.length === 1 && p.told[0]?.startsWith('failed QueueClosedError'))).toEqual([
      true,
      true,
    ]);
  });

  describe('spacing of flushes that may wait (dedupe servers)', () => {
    const GAP = 60;
    const step = (serverId: string, durable: boolean): SettleStep => ({
      serverId,
      items: [],
      window: 1,
      durable,
    });
    /** A batcher whose commit records when it ran and which servers' steps it wrote. */
    function recorded(): { batcher: SettleBatcher; commits: { at: number; servers: string[] }[] } {
      const commits: { at: number; servers: string[] }[] = [];
      const batcher = new SettleBatcher((steps) => {
        commits.push({ at: performance.now(), servers: steps.map((s) => s.serverId) });
        return steps.map(() => ({ settled: [], sending: [] }));
      }, GAP);
      return { batcher, commits };
    }
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

    it('flushes a lone step that may wait in the next turn, then holds the next ones until the gap has passed, all in one commit', async () => {
      const { batcher, commits } = recorded();
      batcher.schedule(participant(step('a', false)), true);
      await turn();
      expect(commits.map((c) => c.servers)).toEqual([['a']]);
      const first = commits[0]?.at ?? 0;
      batcher.schedule(participant(step('b', false)), true);
      await turn();
      batcher.schedule(participant(step('c', false)), true);
      await turn();
      expect(commits).toHaveLength(1);
      while (commits.length < 2) await sleep(5);
      expect(commits[1]?.servers).toEqual(['b', 'c']);
      // Timers may fire a millisecond early by their own rounding, never a gap early.
      expect((commits[1]?.at ?? 0) - first).toBeGreaterThanOrEqual(GAP - 2);
    });

    it('flushes in the next turn, with the steps held back, as soon as a step that may not wait arrives', async () => {
      const { batcher, commits } = recorded();
      batcher.schedule(participant(step('a', false)), true);
      await turn();
      batcher.schedule(participant(step('b', false)), true);
      await turn();
      expect(commits).toHaveLength(1);
      batcher.schedule(participant(step('rust', true)), false);
      await turn();
      expect(commits.map((c) => c.servers)).toEqual([['a'], ['b', 'rust']]);
      // The timer of the held step was cleared: no empty or duplicate commit follows.
      await sleep(GAP + 20);
      expect(commits).toHaveLength(2);
    });

    it('never spaces steps that may not wait, however close together', async () => {
      const { batcher, commits } = recorded();
      for (const id of ['x', 'y', 'z']) {
        batcher.schedule(participant(step(id, true)));
        await turn();
      }
      expect(commits.map((c) => c.servers)).toEqual([['x'], ['y'], ['z']]);
    });
  });
});
