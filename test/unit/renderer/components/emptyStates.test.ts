import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import AgentsView from '../../../../renderer/src/views/AgentsView.vue';
import ServersView from '../../../../renderer/src/views/ServersView.vue';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import { settle, withFreshApp } from '../setup';

const sel = (id: string): string => `[data-testid="${id}"]`;

describe('empty states say why and offer the action that fills them', () => {
  const ctx = withFreshApp();

  it('no servers: "Add a server" opens the form', async () => {
    await useServersStore().refresh();
    const wrapper = mount(ServersView, { global: { plugins: [ctx.pinia] } });
    await settle();
    expect(wrapper.get(sel('servers-empty')).text()).toContain('No servers yet');
    expect(wrapper.find(sel('server-form')).exists()).toBe(false);
    await wrapper.get(sel('servers-empty-action')).trigger('click');
    expect(wrapper.find(sel('server-form')).exists()).toBe(true);
    expect(wrapper.find(sel('servers-empty')).exists()).toBe(false);
  });

  it('no servers because the local agent server did not start: says why, not "start with no configuration"', async () => {
    ctx.fake.embeddedServerProblem = 'no two adjacent free TCP ports between 5555 and 32767 on 127.0.0.1';
    await useServersStore().start();
    const wrapper = mount(ServersView, { global: { plugins: [ctx.pinia] } });
    await settle();
    const text = wrapper.get(sel('servers-empty')).text();
    expect(text).toContain(
      'No servers yet: the local agent server did not start (no two adjacent free TCP ports between 5555 and 32767 on 127.0.0.1).',
    );
    expect(text).toContain('or fix that and restart the console');
    expect(text).not.toContain('start the console with no configuration');
  });

  it('a server with no agents: "Spawn an agent" opens the spawn dialog, with a sample task', async () => {
    const serverId = ctx.fake.addServer('s');
    const wrapper = mount(AgentsView, { props: { serverId }, global: { plugins: [ctx.pinia] } });
    await settle();
    expect(wrapper.get(sel('agents-empty')).text()).toContain('No agents on this server yet');
    expect(wrapper.get(sel('agents-empty-sample')).text()).toMatch(/^echo /);
    expect(useUiStore().spawnOpen).toBe(false);
    await wrapper.get(sel('agents-empty-action')).trigger('click');
    expect(useUiStore().spawnOpen).toBe(true);
    expect(wrapper.find(sel('agents-no-match')).exists()).toBe(false);
  });

  it('a filter that matches nothing names it and clears it', async () => {
    const serverId = ctx.fake.addServer('s');
    ctx.fake.addAgents(serverId, 3);
    const wrapper = mount(AgentsView, { props: { serverId }, global: { plugins: [ctx.pinia] } });
    await settle();
    expect(wrapper.find(sel('agents-no-match')).exists()).toBe(false);
    await wrapper.get(sel('agents-filter')).setValue('x');
    await wrapper.get(sel('agents-status-filter')).setValue('paused');
    expect(wrapper.get(sel('agents-no-match')).text()).toContain('No agents match “x” and status paused.');
    expect(wrapper.find(sel('agents-empty')).exists()).toBe(false);
    await wrapper.get(sel('agents-no-match-action')).trigger('click');
    expect(useAgentsStore().filterText).toBe('');
    expect(useAgentsStore().visible).toHaveLength(3);
    expect(wrapper.find(sel('agents-no-match')).exists()).toBe(false);
  });
});
