import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import BatchPanel from '../../../../renderer/src/components/BatchPanel.vue';
import QueuePanel from '../../../../renderer/src/components/QueuePanel.vue';
import ThemeToggle from '../../../../renderer/src/components/ThemeToggle.vue';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useQueueStore } from '../../../../renderer/src/stores/queue';
import { THEME_KEY } from '../../../../renderer/src/stores/settings';
import { stopRequest } from '../fakeApi';
import { freshApp, settle, withFreshApp } from '../setup';

describe('BatchPanel and its result grid', () => {
  it('previews the target count, runs, shows per-agent results and retries only the failed', async () => {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const ids = ctx.fake.addAgents(serverId, 6).map((a) => a.id);
    ctx.fake.failing.add(ids[4] ?? '');
    const agents = useAgentsStore();
    await agents.open(serverId);
    agents.toggleAllFiltered();
    const wrapper = mount(BatchPanel, { props: { serverId }, global: { plugins: [ctx.pinia] } });
    expect(wrapper.get('[data-testid="batch-target-count"]').text()).toContain('6 agents selected');
    await wrapper.get('[data-testid="batch-command"]').setValue('pause');
    await wrapper.get('[data-testid="batch-force"]').setValue(true);
    let release: () => void = () => undefined;
    ctx.fake.gate = new Promise<void>((resolve) => (release = resolve));
    await wrapper.get('[data-testid="batch-run"]').trigger('click');
    expect(wrapper.find('[data-testid="batch-progress"]').text()).toContain('Running pause on 6 agents');
    expect(
      wrapper.findAll('[data-testid="batch-result"]').every((c) => c.attributes('data-state') === 'pending'),
    ).toBe(true);
    release();
    ctx.fake.gate = null;
    await settle();
    expect(wrapper.find('[data-testid="batch-progress"]').exists()).toBe(false);
    expect(ctx.fake.callsOf('batchControl')[0]).toMatchObject({
      command: 'pause',
      payload: { force: true },
      failFast: false,
    });
    const cells = wrapper.findAll('[data-testid="batch-result"]');
    expect(cells.map((c) => c.attributes('data-state'))).toEqual([
      'success',
      'success',
      'success',
      'success',
      'failure',
      'success',
    ]);
    expect(cells[4]?.text()).toContain('Agent is not running');
    expect(wrapper.get('[data-testid="batch-count-failure"]').text()).toBe('failure 1');
    ctx.fake.failing.clear();
    await wrapper.get('[data-testid="batch-retry-failed"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('batchControl').at(-1)).toMatchObject({ agentIds: [ids[4]] });
    expect(wrapper.findAll('[data-testid="batch-result"]').map((c) => c.attributes('data-state'))).toEqual([
      'success',
    ]);
  });
});

describe('QueuePanel', () => {
  const ctx = withFreshApp();

  it('lists pending commands with a ticking age and expiry, and cancels one', async () => {
    const request = stopRequest();
    const queued = ctx.fake.makeCommand('s1', request, 'queued', {
      createdAt: Date.now() - 65_000,
      expiresAt: Date.now() + 600_000,
    });
    await useQueueStore().start();
    const wrapper = mount(QueuePanel, { global: { plugins: [ctx.pinia] } });
    const item = wrapper.get('[data-testid="queue-item"]');
    expect(item.attributes('data-command-id')).toBe(queued.id);
    expect(item.get('[data-testid="queue-item-age"]').text()).toMatch(/^1 min 5 s$/);
    expect(item.get('[data-testid="queue-item-expiry"]').text()).toMatch(/^in (9 min 59 s|10 min 0 s)/);
    await item.get('[data-testid="queue-cancel"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('cancelCommand')).toEqual([{ id: queued.id }]);
    expect(wrapper.find('[data-testid="queue-item"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="queue-empty"]').exists()).toBe(true);
  });

  it('shows why a cancel failed next to the command', async () => {
    const request = stopRequest();
    const unknown = ctx.fake.makeCommand('s1', request, 'timed_out');
    await useQueueStore().start();
    const wrapper = mount(QueuePanel, { global: { plugins: [ctx.pinia] } });
    ctx.fake.commands.set(unknown.id, { ...unknown, state: 'succeeded' }); // settled meanwhile
    await wrapper.get('[data-testid="queue-cancel"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="queue-item-error"]').text()).toMatch(
      /succeeded and can no longer be cancelled/,
    );
  });
});

describe('ThemeToggle', () => {
  it('switches the document theme and persists it; Auto follows the system again', async () => {
    localStorage.clear();
    const ctx = freshApp();
    const wrapper = mount(ThemeToggle, { global: { plugins: [ctx.pinia] } });
    const first = document.documentElement.dataset.theme;
    expect(first === 'dark' || first === 'light').toBe(true);
    await wrapper.get('[data-testid="theme-toggle"]').trigger('click');
    const second = document.documentElement.dataset.theme;
    expect(second).not.toBe(first);
    expect(localStorage.getItem(THEME_KEY)).toBe(second);
    await wrapper.get('[data-testid="theme-system"]').trigger('click');
    expect(document.documentElement.dataset.theme).toBe(first);
    expect(localStorage.getItem(THEME_KEY)).toBe('system');
  });
});
