import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import AgentView from '../../../../renderer/src/views/AgentView.vue';
import { freshApp, settle } from '../setup';

describe('AgentView', () => {
  it('pause with force, stdin on Enter, a queued command while offline; leaving releases the tail', async () => {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const agentId = ctx.fake.addAgents(serverId, 1)[0]?.id ?? '';
    const wrapper = mount(AgentView, { props: { serverId, agentId }, global: { plugins: [ctx.pinia] } });
    await settle();
    expect([...ctx.fake.subscriptions.values()].map((s) => s.kind).sort()).toEqual(['logs', 'status']);
    expect(wrapper.get('[data-testid="agent-info"]').text()).toContain('task of agent-00000');

    await wrapper.get('[data-testid="agent-force"]').setValue(true);
    await wrapper.get('[data-testid="agent-pause"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([
      { serverId, agentId, command: 'pause', payload: { force: true } },
    ]);
    expect(wrapper.get('[data-testid="agent-command-outcome"] .banner').attributes('data-status')).toBe(
      'Done',
    );
    expect(wrapper.get('[data-testid="agent-status"]').attributes('data-state')).toBe('paused');

    ctx.fake.offline = true;
    const stdin = wrapper.get('[data-testid="agent-stdin"]');
    await stdin.setValue('continue please');
    await stdin.trigger('keydown', { key: 'Enter' });
    await settle();
    expect(ctx.fake.callsOf('controlAgent').at(-1)).toEqual({
      serverId,
      agentId,
      command: 'write_stdin',
      payload: { data: 'continue please\n' },
    });
    const outcome = wrapper.get('[data-testid="agent-command-outcome"] .banner');
    expect(outcome.attributes('data-status')).toBe('Queued');
    expect(outcome.text()).toContain('delivered once');
    expect((stdin.element as HTMLInputElement).value).toBe('');

    wrapper.unmount();
    await settle();
    expect([...ctx.fake.subscriptions.values()].map((s) => s.kind)).toEqual(['status']);
  });
});
