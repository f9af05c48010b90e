import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import StatusFeed from '../../../../renderer/src/components/StatusFeed.vue';
import { useFeedStore } from '../../../../renderer/src/stores/feed';
import { freshApp, settle } from '../setup';

describe('StatusFeed', () => {
  it('renders only the newest 50 entries of a long feed, and older ones on request', async () => {
    const ctx = freshApp();
    const feed = useFeedStore();
    feed.start();
    for (let i = 0; i < 120; i++) {
      ctx.fake.emit('notification', { level: i === 119 ? 'error' : 'info', title: `event ${i}`, body: '' });
    }
    const wrapper = mount(StatusFeed, { global: { plugins: [ctx.pinia] } });
    await settle();
    const entries = wrapper.findAll('[data-testid="feed-entry"]');
    expect(entries).toHaveLength(50);
    // Newest first: the last event is on top.
    expect(entries[0]?.text()).toContain('event 119');
    expect(entries[0]?.attributes('data-level')).toBe('error');
    const more = wrapper.get('[data-testid="feed-more"]');
    expect(more.text()).toContain('Show older (70)');
    await more.trigger('click');
    expect(wrapper.findAll('[data-testid="feed-entry"]')).toHaveLength(100);
    await wrapper.get('[data-testid="feed-more"]').trigger('click');
    expect(wrapper.findAll('[data-testid="feed-entry"]')).toHaveLength(120);
    expect(wrapper.find('[data-testid="feed-more"]').exists()).toBe(false);
    feed.stop();
  });
});
