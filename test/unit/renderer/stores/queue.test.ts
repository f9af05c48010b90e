import { describe, expect, it, vi } from 'vitest';
import { useQueueStore } from '../../../../renderer/src/stores/queue';
import { stopRequest as req } from '../fakeApi';
import { withFreshApp } from '../setup';

describe('queue store', () => {
  const ctx = withFreshApp();

  it('lists pending commands and keeps them live from queue events', async () => {
    const queued = ctx.fake.makeCommand('s1', req('a'), 'queued');
    ctx.fake.makeCommand('s1', req('b'), 'succeeded');
    const store = useQueueStore();
    await store.start();
    expect(store.pending.map((c) => c.id)).toEqual([queued.id]);
    expect(store.history).toHaveLength(1);
    ctx.fake.emit('queue', [{ ...queued, state: 'succeeded', settledAt: Date.now() }]);
    expect(store.pending).toHaveLength(0);
    expect(store.history[0]?.id).toBe(queued.id);
  });

  it('cancels a queued command; a conflict is explained', async () => {
    const queued = ctx.fake.makeCommand('s1', req('a'), 'queued');
    const sending = ctx.fake.makeCommand('s1', req('b'), 'sending');
    const store = useQueueStore();
    await store.start();
    expect(await store.cancel(queued.id)).toBeNull();
    expect(store.pending.map((c) => c.id)).toEqual([sending.id]);
    expect(store.history[0]?.state).toBe('cancelled');
    expect(await store.cancel(sending.id)).toMatch(/no longer be cancelled\. Refresh/);
  });

  it('pages history with the `before` cursor', async () => {
    for (let i = 0; i < 150; i++)
      ctx.fake.makeCommand('s1', req(String(i)), 'succeeded', { settledAt: 1_000_000 + i });
    const store = useQueueStore();
    await store.start();
    expect(store.history).toHaveLength(100);
    expect(store.historyDone).toBe(false);
    await store.loadMore();
    expect(store.history).toHaveLength(150);
    expect(store.historyDone).toBe(true);
    expect(ctx.fake.callsOf('history').at(-1)).toMatchObject({ before: { settledAt: 1_000_050 } });
  });

  it('exports the history as a downloaded file', async () => {
    ctx.fake.makeCommand('s1', req('a'), 'failed');
    const created: Blob[] = [];
    const original = URL.createObjectURL.bind(URL);
    const spy = vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      if (blob instanceof Blob) created.push(blob);
      return original(blob);
    });
    const clicks = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
    const store = useQueueStore();
    expect(await store.exportHistory('csv')).toBeNull();
    expect(created).toHaveLength(1);
    expect(await created[0]?.text()).toBe(ctx.fake.exported);
    expect(created[0]?.type).toBe('text/csv');
    expect(clicks).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    clicks.mockRestore();
  });
});
