import { beforeEach, describe, expect, it } from 'vitest';
import { useOutputStore } from '../../../../renderer/src/stores/output';
import { freshApp, settle } from '../setup';

describe('output store', () => {
  let ctx: ReturnType<typeof freshApp>;
  let serverId: string;
  let agentId: string;
  beforeEach(() => {
    ctx = freshApp();
    serverId = ctx.fake.addServer('s');
    agentId = ctx.fake.addAgents(serverId, 1)[0]?.id ?? '';
    ctx.fake.output.set(
      agentId,
      Array.from({ length: 2000 }, (_, i) => ({
        stream: i % 4 === 0 ? ('stderr' as const) : ('stdout' as const),
        text: `line ${i}`,
      })),
    );
  });

  it('counts with limit 0, starts a live tail, and pages on demand', async () => {
    const store = useOutputStore();
    await store.open(serverId, agentId);
    expect(store.total).toBe(2000);
    expect(ctx.fake.callsOf('queryOutput')).toEqual([
      { serverId, agentId, stream: 'both', filter: null, limit: 0, offset: 0 },
    ]);
    expect([...ctx.fake.subscriptions.values()]).toEqual([{ kind: 'logs', serverId, agentId }]);
    await store.ensureRange(1980, 2000);
    expect(ctx.fake.callsOf('queryOutput').at(-1)).toMatchObject({ offset: 1500, limit: 500 });
    expect(store.lineAt(1999)).toBe('line 1999');
  });

  it('checks the pattern before sending; a valid one re-counts with the filter', async () => {
    const store = useOutputStore();
    await store.open(serverId, agentId);
    const before = ctx.fake.callsOf('queryOutput').length;
    expect(await store.applyFilter('line (1')).toBe(false);
    expect(store.filterError).toMatch(/Invalid regular expression/);
    expect(ctx.fake.callsOf('queryOutput')).toHaveLength(before);
    expect(await store.applyFilter('line 1\\d\\d$')).toBe(true);
    expect(store.filterError).toBeNull();
    expect(ctx.fake.callsOf('queryOutput').at(-1)).toMatchObject({ filter: 'line 1\\d\\d$', limit: 0 });
    expect(store.total).toBe(100);
  });

  it("shows the server's own error for a query it rejects", async () => {
    const store = useOutputStore();
    ctx.fake.queryError = 'filter ran past its time budget';
    await store.open(serverId, agentId);
    expect(store.serverError).toMatch(/rejected the query: filter ran past its time budget\. Try again/);
  });

  it('appends live lines of the chosen stream that match the filter; pause holds them', async () => {
    const store = useOutputStore();
    await store.open(serverId, agentId);
    await store.setStream('stderr');
    expect(store.total).toBe(500);
    await store.ensureRange(490, 500);
    const sub = store.tailId ?? '';
    ctx.fake.emit('logs', {
      subscriptionId: sub,
      chunks: [
        { stream: 'stdout', text: 'out a\n', sequence: 1 },
        { stream: 'stderr', text: 'err a\nerr ', sequence: 2 },
        { stream: 'stderr', text: 'b\n', sequence: 3 },
      ],
    });
    expect(store.total).toBe(502);
    expect(store.lineAt(500)).toBe('err a');
    expect(store.lineAt(501)).toBe('err b');
    store.setPaused(true);
    ctx.fake.emit('logs', {
      subscriptionId: sub,
      chunks: [{ stream: 'stderr', text: 'held\n', sequence: 4 }],
    });
    expect(store.total).toBe(502);
    expect(store.heldCount).toBe(1);
    store.setPaused(false);
    expect(store.total).toBe(503);
    expect(store.lineAt(502)).toBe('held');
  });

  it('a backfill re-counts from the server; close unsubscribes', async () => {
    const store = useOutputStore();
    await store.open(serverId, agentId);
    ctx.fake.output.get(agentId)?.push({ stream: 'stdout', text: 'after gap' });
    ctx.fake.emit('backfill', { subscriptionId: store.tailId ?? '', lines: ['after gap'] });
    await settle();
    expect(store.total).toBe(2001);
    await store.close();
    expect(ctx.fake.subscriptions.size).toBe(0);
  });
});
