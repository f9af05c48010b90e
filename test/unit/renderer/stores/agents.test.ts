import { describe, expect, it, vi } from 'vitest';
import { watch } from 'vue';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useAgentDetailsStore } from '../../../../renderer/src/stores/agentDetails';
import { agentInfo, statusUpdate } from '../fakeApi';
import { manualFrames, settle, withFreshServer } from '../setup';

const update = statusUpdate;

describe('agents store', () => {
  const ctx = withFreshServer();

  it('lists the agents and subscribes to the status stream; close releases it', async () => {
    ctx.fake.addAgents(ctx.serverId, 3);
    const store = useAgentsStore();
    await store.open(ctx.serverId);
    expect(store.count).toBe(3);
    expect(ctx.fake.callsOf('listAgents')).toEqual([{ serverId: ctx.serverId, limit: 100_000 }]);
    expect([...ctx.fake.subscriptions.values()]).toEqual([{ kind: 'status', serverId: ctx.serverId }]);
    await store.close();
    expect(ctx.fake.subscriptions.size).toBe(0);
    expect(store.count).toBe(0);
  });

  it('applies a burst of status updates in place, once per frame', async () => {
    const agents = ctx.fake.addAgents(ctx.serverId, 10_000);
    const frames = manualFrames();
    const store = useAgentsStore();
    await store.open(ctx.serverId);
    let recomputed = 0;
    const stop = watch(
      () => store.visible,
      () => recomputed++,
      { flush: 'sync' },
    );
    const first = agents[0];
    const last = agents[9999];
    if (!first || !last) throw new Error('agents missing');
    const rowBefore = store.getRow(first.id);
    for (let i = 0; i < 10; i++) {
      ctx.fake.emit('status', {
        serverId: ctx.serverId,
        updates: agents.slice(i * 1000, (i + 1) * 1000).map((a) => update(a.id, 'paused')),
      });
    }
    expect(recomputed).toBe(0); // nothing applied until the frame
    expect(store.getRow(last.id)?.status).toBe('running');
    expect(frames.pending()).toBe(1);
    frames.run();
    expect(recomputed).toBe(1);
    expect(store.getRow(first.id)).toBe(rowBefore); // the same object, patched
    expect(store.getRow(last.id)?.status).toBe('paused');
    expect(store.statusCounts.get('paused')).toBe(10_000);
    stop();
  });

  it('ignores other servers and re-lists on resync or an unknown agent', async () => {
    const [a] = ctx.fake.addAgents(ctx.serverId, 1);
    const frames = manualFrames();
    const store = useAgentsStore();
    await store.open(ctx.serverId);
    ctx.fake.emit('status', { serverId: 'other', updates: [update(a?.id ?? '', 'failed')] });
    frames.run();
    expect(store.getRow(a?.id ?? '')?.status).toBe('running');
    const extra = agentInfo('late');
    ctx.fake.agents.get(ctx.serverId)?.set(extra.id, extra);
    ctx.fake.emit('resync', { serverId: ctx.serverId, reason: 'seq gap' });
    await settle();
    expect(store.count).toBe(2);
    expect(ctx.fake.callsOf('listAgents')).toHaveLength(2);
  });

  it('setStatus records a reply status on the open server row only, and re-lists for an unknown agent', async () => {
    const [a] = ctx.fake.addAgents(ctx.serverId, 1);
    const id = a?.id ?? '';
    const store = useAgentsStore();
    await store.open(ctx.serverId);
    store.setStatus('other server', id, 'failed');
    expect(store.getRow(id)?.status).toBe('running');
    store.setStatus(ctx.serverId, id, 'paused');
    expect(store.getRow(id)?.status).toBe('paused');
    expect(store.getRow(id)?.pausedAt).not.toBeNull();
    expect(store.statusCounts.get('paused')).toBe(1);
    store.setStatus(ctx.serverId, id, 'running');
    expect(store.getRow(id)).toMatchObject({ status: 'running', pausedAt: null, pauseMode: null });

    const late = agentInfo('late');
    ctx.fake.agents.get(ctx.serverId)?.set(late.id, late);
    vi.useFakeTimers();
    try {
      store.setStatus(ctx.serverId, late.id, 'running');
      vi.advanceTimersByTime(1000);
    } finally {
      vi.useRealTimers();
    }
    await settle();
    expect(store.getRow(late.id)?.name).toBe('late');
  });

  it('filters by text and status, sorts, and selects all filtered', async () => {
    ctx.fake.addAgents(ctx.serverId, 30);
    const paused = ctx.fake.addAgents(ctx.serverId, 5, 'paused');
    const store = useAgentsStore();
    await store.open(ctx.serverId);
    store.statusFilter = 'paused';
    expect(store.visible.map((r) => r.id).sort()).toEqual(paused.map((p) => p.id).sort());
    store.statusFilter = '';
    store.filterText = 'agent-0001';
    expect(store.visible.map((r) => r.name)).toEqual([
      'agent-00010',
      'agent-00011',
      'agent-00012',
      'agent-00013',
      'agent-00014',
      'agent-00015',
      'agent-00016',
      'agent-00017',
      'agent-00018',
      'agent-00019',
    ]);
    store.setSort('name');
    expect(store.visible[0]?.name).toBe('agent-00019');
    store.toggleAllFiltered();
    expect(store.selectedIds).toHaveLength(10);
    store.filterText = '';
    store.click(store.visible[0]?.id ?? '', {});
    store.click(store.visible[4]?.id ?? '', { shift: true });
    expect(store.selectedIds).toHaveLength(5);
  });

  it('dispose removes its event listeners and releases the subscription', async () => {
    const store = useAgentsStore();
    await store.open(ctx.serverId);
    // Its own listener, and the details store's (loaded with the list, disposed on its own).
    expect(ctx.fake.listenerCount('status')).toBe(2);
    store.$dispose();
    await settle();
    expect(ctx.fake.listenerCount('status')).toBe(1);
    useAgentDetailsStore().$dispose();
    expect(ctx.fake.listenerCount('status')).toBe(0);
    expect(ctx.fake.subscriptions.size).toBe(0);
  });
});
