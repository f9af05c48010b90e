/** StatusFeed: one line per row, agent names, links to the agent and to the command's history. */
import { mount } from '@vue/test-utils';
import { beforeEach, describe, expect, it } from 'vitest';
import StatusFeed from '../../../../renderer/src/components/StatusFeed.vue';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useFeedStore } from '../../../../renderer/src/stores/feed';
import { useQueueStore } from '../../../../renderer/src/stores/queue';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import { fakeUuid } from '../fakeApi';
import { freshApp, manualFrames, settle } from '../setup';

describe('StatusFeed', () => {
  beforeEach(() => {
    localStorage.clear();
  });

  it('renders only the rows in view of a long feed, newest first', async () => {
    const ctx = freshApp();
    const feed = useFeedStore();
    feed.start();
    for (let i = 0; i < 120; i++) {
      ctx.fake.emit('notification', { level: i === 119 ? 'error' : 'info', title: `event ${i}`, body: '' });
    }
    const wrapper = mount(StatusFeed, { props: { viewportFallback: 260 }, global: { plugins: [ctx.pinia] } });
    await settle();
    const entries = wrapper.findAll('[data-testid="feed-entry"]');
    expect(entries.length).toBeGreaterThan(5);
    expect(entries.length).toBeLessThan(40);
    expect(entries[0]?.text()).toContain('event 119');
    expect(entries[0]?.attributes('data-level')).toBe('error');
    expect(wrapper.get('[data-testid="feed-count"]').text()).toBe('120 / 300');
    feed.stop();
  });

  it('shows each row on one line: time, level icon and word, agent name, message with the full text on hover', async () => {
    const frames = manualFrames();
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const [agent] = ctx.fake.addAgents(serverId, 1);
    const agentId = agent?.id ?? '';
    await useAgentsStore().open(serverId);
    await settle();
    const feed = useFeedStore();
    feed.start();
    const stranger = fakeUuid();
    const long = 'x'.repeat(400);
    ctx.fake.emit('status', {
      serverId,
      updates: [
        {
          type: 'status_update',
          agent_id: stranger,
          update_type: 'status_changed',
          status: 'running',
          message: 'agent started',
          timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
        },
        {
          type: 'status_update',
          agent_id: agentId,
          update_type: 'error',
          status: 'failed',
          message: long,
          timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
        },
      ],
    });
    frames.run(2); // the feed renders a frame after the agents table
    const wrapper = mount(StatusFeed, { global: { plugins: [ctx.pinia] } });
    await settle();
    const [top, second] = wrapper.findAll('[data-testid="feed-entry"]');
    expect(top?.get('time').text()).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(top?.get('[data-testid="feed-level"]').text()).toBe('✖ error');
    // The name from the agents store, not the UUID.
    expect(top?.get('[data-testid="feed-agent-link"]').text()).toBe('agent-00000');
    expect(top?.text()).not.toContain(agentId);
    const message = top?.get('[data-testid="feed-message"]');
    expect(message?.text()).toBe(`failed: ${long}`);
    expect(message?.attributes('title')).toContain(long);
    expect(message?.attributes('tabindex')).toBe('0');
    // An agent of another server (no name known): its short id.
    expect(second?.get('[data-testid="feed-agent-link"]').text()).toBe(stranger.slice(0, 8));
    expect(second?.get('[data-testid="feed-level"]').text()).toBe('ℹ info');
    // One line each: no block children under a row.
    for (const row of [top, second]) expect(row?.findAll('div, p, br')).toEqual([]);
    feed.stop();
  });

  it('opens the agent of a row, and a failed command in the history', async () => {
    const ctx = freshApp();
    const feed = useFeedStore();
    feed.start();
    const serverId = fakeUuid();
    const agentId = fakeUuid();
    const commandId = fakeUuid();
    ctx.fake.emit('notification', {
      level: 'error',
      title: 'Command failed on s',
      body: 'stop agent: refused',
      subject: { serverId, commandId, agentId },
    });
    ctx.fake.emit('notification', { level: 'info', title: 's is back online', body: '' });
    const wrapper = mount(StatusFeed, { global: { plugins: [ctx.pinia] } });
    await settle();
    const [online, failed] = wrapper.findAll('[data-testid="feed-entry"]');
    expect(online?.find('[data-testid="feed-agent-link"]').exists()).toBe(false);
    expect(online?.find('[data-testid="feed-retry-link"]').exists()).toBe(false);

    const link = failed?.get('[data-testid="feed-agent-link"]');
    expect(link?.attributes('href')).toBe(`#/servers/${serverId}/agents/${agentId}`);
    await link?.trigger('click');
    await settle();
    const ui = useUiStore();
    expect(ui.view).toBe('agent');
    expect(ui.serverId).toBe(serverId);
    expect(ui.agentId).toBe(agentId);

    await failed?.get('[data-testid="feed-retry-link"]').trigger('click');
    await settle();
    expect(ui.view).toBe('queue');
    expect(ui.historyFocus).toBe(commandId);
    expect(useQueueStore().textFilter).toBe(commandId);
    feed.stop();
  });

  it('clears the feed and says it is empty', async () => {
    const ctx = freshApp();
    const feed = useFeedStore();
    feed.start();
    ctx.fake.emit('notification', { level: 'info', title: 'one', body: '' });
    const wrapper = mount(StatusFeed, { global: { plugins: [ctx.pinia] } });
    await settle();
    expect(wrapper.find('[data-testid="feed-empty"]').exists()).toBe(false);
    await wrapper.get('[data-testid="feed-clear"]').trigger('click');
    expect(wrapper.findAll('[data-testid="feed-entry"]')).toEqual([]);
    expect(wrapper.get('[data-testid="feed-empty"]').text()).toContain('Nothing yet');
    expect(wrapper.get('[data-testid="feed-clear"]').attributes('disabled')).toBeDefined();
    feed.stop();
  });
});
