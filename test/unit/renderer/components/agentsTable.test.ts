import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import AgentsTable from '../../../../renderer/src/components/AgentsTable.vue';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { manualFrames, withFreshServer } from '../setup';

describe('AgentsTable', () => {
  const ctx = withFreshServer();

  async function mountWith(count: number) {
    ctx.fake.addAgents(ctx.serverId, count);
    const store = useAgentsStore();
    const frames = manualFrames();
    await store.open(ctx.serverId);
    const wrapper = mount(AgentsTable, {
      props: { now: Date.now(), viewportFallback: 640 },
      global: { plugins: [ctx.pinia] },
    });
    return { store, wrapper, frames };
  }

  it('renders only a window of rows for 10,000 agents, and moves it on scroll', async () => {
    const { wrapper } = await mountWith(10_000);
    const rows = wrapper.findAll('[data-testid="agent-row"]');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60);
    expect(rows[0]?.text()).toContain('agent-00000');
    const viewport = wrapper.get('[data-testid="agents-viewport"]');
    (viewport.element as HTMLElement).scrollTop = 5000 * 32;
    await viewport.trigger('scroll');
    const moved = wrapper.findAll('[data-testid="agent-row"]');
    expect(moved.length).toBeLessThan(60);
    expect(moved.map((r) => r.text()).some((t) => t.includes('agent-05000'))).toBe(true);
    expect(moved.map((r) => r.text()).some((t) => t.includes('agent-00000'))).toBe(false);
  });

  it('shows status updates after the frame applies them', async () => {
    const { wrapper, frames } = await mountWith(100);
    const first = wrapper.get('[data-testid="agent-row"]');
    const agentId = first.attributes('data-agent-id') ?? '';
    expect(first.attributes('data-status')).toBe('running');
    ctx.fake.emit('status', {
      serverId: ctx.serverId,
      updates: [
        {
          type: 'status_update',
          agent_id: agentId,
          update_type: 'status_changed',
          status: 'failed',
          message: 'exit 3',
          timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
        },
      ],
    });
    frames.run();
    await wrapper.vm.$nextTick();
    const row = wrapper.get(`[data-agent-id="${agentId}"]`);
    expect(row.attributes('data-status')).toBe('failed');
    expect(row.text()).toContain('exit 3');
  });

  it('click, shift-click and select-all-filtered select rows', async () => {
    const { wrapper, store } = await mountWith(200);
    const rows = wrapper.findAll('[data-testid="agent-row"]');
    await rows[2]?.trigger('click');
    await rows[6]?.trigger('click', { shiftKey: true });
    expect(store.selectedIds).toHaveLength(5);
    expect(wrapper.findAll('[data-testid="agent-row"].selected')).toHaveLength(5);
    store.filterText = 'agent-001';
    await wrapper.vm.$nextTick();
    expect(store.visible).toHaveLength(100);
    const shown = wrapper.findAll('[data-testid="agent-row"]');
    expect(shown.length).toBeLessThan(100); // still virtualized
    expect(shown.every((r) => r.text().includes('agent-001'))).toBe(true);
    await wrapper.get('[data-testid="agents-select-all"]').trigger('change');
    expect(store.selectedIds).toHaveLength(100);
    expect(store.selectedIds.every((id) => store.getRow(id)?.name.startsWith('agent-001'))).toBe(true);
  });

  it('sorts by a column header', async () => {
    const { wrapper } = await mountWith(50);
    await wrapper.get('[data-testid="agents-sort-name"]').trigger('click'); // name desc
    expect(wrapper.get('[data-testid="agent-row"]').text()).toContain('agent-00049');
  });
});
