import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { useConfirmStore } from '../../../../renderer/src/stores/confirm';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import AgentsView from '../../../../renderer/src/views/AgentsView.vue';
import FleetView from '../../../../renderer/src/views/FleetView.vue';
import { agentDetails, serverStatus } from '../fakeApi';
import { settle, withFreshApp } from '../setup';

describe('FleetView', () => {
  const ctx = withFreshApp();

  async function mountFleet() {
    const north = ctx.fake.addServer('north');
    const south = ctx.fake.addServer('south');
    const n = ctx.fake.addAgents(north, 2);
    const s = ctx.fake.addAgents(south, 1);
    await useServersStore().start();
    const wrapper = mount(FleetView, {
      props: {},
      global: { plugins: [ctx.pinia] },
      attachTo: document.body,
    });
    await settle();
    return { wrapper, north, south, n, s };
  }

  const rowsOf = (wrapper: Awaited<ReturnType<typeof mountFleet>>['wrapper']) =>
    wrapper.findAll('[data-testid="agent-row"]');

  it('shows every online server’s agents with a Server column', async () => {
    const { wrapper, north, south } = await mountFleet();
    const rows = rowsOf(wrapper);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.get('[data-testid="agent-row-server"]').text())).toEqual([
      'north',
      'north',
      'south',
    ]);
    expect(rows.map((r) => r.attributes('data-server-id'))).toEqual([north, north, south]);
    expect(wrapper.get('[data-testid="agents-sort-server"]').text()).toContain('Server');
    expect(wrapper.get('[data-testid="fleet-count"]').text()).toBe('3 agents on 2 online servers');
    wrapper.unmount();
  });

  it('shows each server’s agents with the badge their facts give (a lost agent says lost)', async () => {
    const east = ctx.fake.addServer('east');
    const [lost] = ctx.fake.addAgents(east, 1, 'failed');
    ctx.fake.details.set(
      lost?.id ?? '',
      agentDetails({ agentId: lost?.id ?? '', endReason: 'lost', endedAtMs: 1 }),
    );
    const { wrapper } = await mountFleet();
    await settle();
    const row = rowsOf(wrapper).find((r) => r.attributes('data-agent-id') === lost?.id);
    expect(row?.get('[data-badge]').attributes('data-badge')).toBe('lost');
    wrapper.unmount();
  });

  it('fills "Last update" of agents listed after they ended with how they ended', async () => {
    const east = ctx.fake.addServer('east');
    const [failed] = ctx.fake.addAgents(east, 1, 'failed');
    ctx.fake.details.set(
      failed?.id ?? '',
      agentDetails({ agentId: failed?.id ?? '', endReason: 'failed', exitCode: 3, endedAtMs: 1 }),
    );
    const { wrapper } = await mountFleet();
    await settle();
    const row = rowsOf(wrapper).find((r) => r.attributes('data-agent-id') === failed?.id);
    expect(row?.get('[data-testid="agent-row-last-update"]').text()).toBe('failed with exit code 3');
    // A running agent with no status message since it was listed: nothing to say, nothing made up.
    const running = rowsOf(wrapper).find((r) => r.attributes('data-agent-id') !== failed?.id);
    expect(running?.get('[data-testid="agent-row-last-update"]').text()).toBe('');
    wrapper.unmount();
  });

  it('offers a batch command only when a selected agent can take it, and says why not', async () => {
    const { wrapper } = await mountFleet();
    await wrapper.get('[data-testid="agents-select-all"]').setValue(true);
    // Every agent runs: Pause applies, Resume does not (none is paused).
    expect(wrapper.get('[data-testid="fleet-pause"]').attributes('disabled')).toBeUndefined();
    const resume = wrapper.get('[data-testid="fleet-resume"]');
    expect(resume.attributes('disabled')).toBeDefined();
    expect(resume.attributes('title')).toBe('Resume: the agent is not paused');
    wrapper.unmount();
  });

  it('marks the rows of a server that went offline as last known, with a banner', async () => {
    const { wrapper, north } = await mountFleet();
    ctx.fake.emit('servers', [serverStatus(north, { state: 'offline' })]);
    await settle();
    const stale = rowsOf(wrapper).filter((r) => r.attributes('data-server-id') === north);
    expect(stale).toHaveLength(2);
    for (const row of stale) {
      expect(row.attributes('data-live')).toBe('false');
      expect(row.get('[data-testid="agent-row-stale"]').text()).toBe('offline · as last known');
    }
    const live = rowsOf(wrapper).filter((r) => r.attributes('data-server-id') !== north);
    expect(live.map((r) => r.attributes('data-live'))).toEqual(['true']);
    expect(wrapper.get('[data-testid="fleet-stale"]').text()).toMatch(
      /^north is offline: its agents are shown as last known, not live\./,
    );
    wrapper.unmount();
  });

  it('pauses a selection across servers and lists each agent’s result with its server', async () => {
    const { wrapper } = await mountFleet();
    expect(wrapper.get('[data-testid="fleet-pause"]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid="agents-select-all"]').setValue(true);
    expect(wrapper.get('[data-testid="fleet-selected-count"]').text()).toBe('3 agents selected');
    await wrapper.get('[data-testid="fleet-pause"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('batchControl')).toHaveLength(2);
    const parts = wrapper.findAll('[data-testid="fleet-batch-part"]');
    expect(parts.map((p) => p.get('.part-name').text()).sort()).toEqual(['north', 'south']);
    const results = wrapper.findAll('[data-testid="batch-result"]');
    expect(results.map((r) => r.attributes('data-state'))).toEqual(['success', 'success', 'success']);
    expect(results.map((r) => r.get('.name').text()).sort()).toEqual([
      'north › agent-00000',
      'north › agent-00001',
      'south › agent-00000',
    ]);
    wrapper.unmount();
  });

  it('kills only after the confirmation gate says yes', async () => {
    const { wrapper, north, n } = await mountFleet();
    await wrapper.get('[data-testid="agent-row-check"]').setValue(true);
    await wrapper.get('[data-testid="fleet-kill"]').trigger('click');
    await settle();
    const confirm = useConfirmStore();
    expect(confirm.pending?.targets).toEqual([{ id: n[0]?.id, name: 'agent-00000', serverName: 'north' }]);
    confirm.answer(false);
    await settle();
    expect(ctx.fake.callsOf('batchControl')).toEqual([]);
    expect(wrapper.find('[data-testid="fleet-batch"]').exists()).toBe(false);
    await wrapper.get('[data-testid="fleet-kill"]').trigger('click');
    await settle();
    confirm.answer(true);
    await settle();
    expect(ctx.fake.callsOf('batchControl')).toEqual([
      { serverId: north, agentIds: [n[0]?.id], command: 'kill', failFast: false },
    ]);
    wrapper.unmount();
  });

  it('filters by server and opens the merged log of the selection', async () => {
    const { wrapper, south, s } = await mountFleet();
    await wrapper.get('[data-testid="fleet-server-filter"]').setValue(south);
    expect(rowsOf(wrapper)).toHaveLength(1);
    expect(wrapper.get('[data-testid="fleet-shown"]').text()).toBe('1 shown');
    await wrapper.get('[data-testid="agents-select-all"]').setValue(true);
    const merged = wrapper.get('[data-testid="fleet-merged-log"]');
    expect(merged.text()).toBe('Merged log of 1 agent');
    await merged.trigger('click');
    await settle();
    const ui = useUiStore();
    expect(ui.view).toBe('logs');
    expect(ui.mergedAgents).toEqual([{ serverId: south, agentId: s[0]?.id }]);
    wrapper.unmount();
  });
});

describe('AgentsView merged log', () => {
  const ctx = withFreshApp();

  it('opens the merged log of the selected agents of the open server', async () => {
    const server = ctx.fake.addServer('solo');
    const agents = ctx.fake.addAgents(server, 2);
    await useServersStore().start();
    const wrapper = mount(AgentsView, { props: { serverId: server }, global: { plugins: [ctx.pinia] } });
    await settle();
    expect(wrapper.get('[data-testid="agents-merged-log"]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid="agents-select-all"]').setValue(true);
    await wrapper.get('[data-testid="agents-merged-log"]').trigger('click');
    await settle();
    expect(useUiStore().mergedAgents).toEqual(agents.map((a) => ({ serverId: server, agentId: a.id })));
    wrapper.unmount();
  });
});
