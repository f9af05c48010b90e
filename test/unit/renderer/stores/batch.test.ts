import { beforeEach, describe, expect, it } from 'vitest';
import { useBatchStore } from '../../../../renderer/src/stores/batch';
import { freshApp } from '../setup';

describe('batch store', () => {
  let ctx: ReturnType<typeof freshApp>;
  let serverId: string;
  let ids: string[];
  beforeEach(() => {
    ctx = freshApp();
    serverId = ctx.fake.addServer('s');
    ids = ctx.fake.addAgents(serverId, 5).map((a) => a.id);
  });

  it('continue mode: every agent gets a result; retry re-runs only the failed ones', async () => {
    ctx.fake.failing.add(ids[1] ?? '');
    ctx.fake.failing.add(ids[3] ?? '');
    const store = useBatchStore();
    const running = store.start(serverId, ids, 'pause', false);
    expect(store.running).toBe(true);
    expect(store.cells.every((c) => c.state === 'pending')).toBe(true);
    await running;
    expect(store.cells.map((c) => c.state)).toEqual(['success', 'failure', 'success', 'failure', 'success']);
    expect(store.cells[1]?.error).toBe('Agent is not running');
    expect(store.outcome?.title).toBe('Partly done');
    ctx.fake.failing.clear();
    await store.retryFailed();
    expect(ctx.fake.callsOf('batchControl').at(-1)).toEqual({
      serverId,
      agentIds: [ids[1], ids[3]],
      command: 'pause',
      failFast: false,
    });
    expect(store.cells.map((c) => c.state)).toEqual(['success', 'success']);
  });

  it('fail fast: agents after the first failure are marked skipped', async () => {
    ctx.fake.failing.add(ids[2] ?? '');
    const store = useBatchStore();
    await store.start(serverId, ids, 'stop', true);
    expect(store.cells.map((c) => c.state)).toEqual(['success', 'success', 'failure', 'skipped', 'skipped']);
    expect(store.cells[3]?.error).toContain('fail fast');
  });

  it('a queued batch says so, and no targets is an error with a next step', async () => {
    const store = useBatchStore();
    await store.start(serverId, [], 'stop', false);
    expect(store.error).toMatch(/No agents are selected: select agents/);
    ctx.fake.offline = true;
    await store.start(serverId, ids, 'stop', false, undefined, Date.now() + 60_000);
    expect(store.outcome?.title).toBe('Queued');
    expect(store.cells.every((c) => c.state === 'queued')).toBe(true);
  });
});
