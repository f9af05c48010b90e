import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import OutputViewer from '../../../../renderer/src/components/OutputViewer.vue';
import { useOutputStore } from '../../../../renderer/src/stores/output';
import { settle, withFreshAgent } from '../setup';

describe('OutputViewer', () => {
  const ctx = withFreshAgent();

  /** Mounts the viewer (with that fallback viewport height, if given) and opens the agent's output. */
  async function openViewer(viewportFallback?: number) {
    const store = useOutputStore();
    const wrapper = mount(OutputViewer, {
      props: viewportFallback === undefined ? {} : { viewportFallback },
      global: { plugins: [ctx.pinia] },
    });
    await store.open(ctx.serverId, ctx.agentId);
    return { store, wrapper };
  }

  it('opens 1,000,000 lines at the tail: one count, pages near the viewport, a small DOM', async () => {
    ctx.fake.synthetic.set(ctx.agentId, 1_000_000);
    const { wrapper } = await openViewer(480);
    await settle(10);
    expect(wrapper.get('[data-testid="output-count"]').text()).toContain('1,000,000 line(s)');
    const queries = ctx.fake.callsOf('queryOutput') as { offset: number; limit: number }[];
    expect(queries[0]).toMatchObject({ limit: 0 });
    // The count, then at most the two pages the viewport spans at the tail.
    expect(queries.length).toBeLessThanOrEqual(3);
    expect(queries.slice(1).every((q) => q.offset >= 999_000 && q.limit === 500)).toBe(true);
    const lines = wrapper.findAll('[data-testid="output-line"]');
    expect(lines.length).toBeLessThan(60);
    expect(lines.at(-1)?.text()).toBe('1000000line 999999');
  });

  it('scrolling to the top fetches the first page and stops following', async () => {
    ctx.fake.synthetic.set(ctx.agentId, 1_000_000);
    const { store, wrapper } = await openViewer(480);
    await settle(10);
    const viewport = wrapper.get('[data-testid="output-viewport"]');
    await viewport.trigger('wheel', { deltaY: -100 });
    (viewport.element as HTMLElement).scrollTop = 0;
    await viewport.trigger('scroll');
    await settle(10);
    expect(store.following).toBe(false);
    expect(ctx.fake.callsOf('queryOutput').at(-1)).toMatchObject({ offset: 0, limit: 500 });
    expect(wrapper.get('[data-testid="output-line"]').text()).toBe('1line 0');
  });

  it('shows an invalid regex inline without sending it, then the server error for one it rejects', async () => {
    ctx.fake.output.set(ctx.agentId, [{ stream: 'stdout', text: 'hello' }]);
    const { wrapper } = await openViewer();
    const sent = ctx.fake.callsOf('queryOutput').length;
    const input = wrapper.get('[data-testid="output-filter"]');
    await input.setValue('(unclosed');
    expect(wrapper.get('[data-testid="output-filter-error"]').text()).toMatch(
      /^Invalid regular expression: .* No filter is applied\.$/,
    );
    expect(wrapper.get('[data-testid="output-filter-apply"]').attributes('disabled')).toBeDefined();
    await input.trigger('keydown', { key: 'Enter' });
    expect(ctx.fake.callsOf('queryOutput')).toHaveLength(sent);
    await input.setValue('hel+o');
    expect(wrapper.find('[data-testid="output-filter-error"]').exists()).toBe(false);
    ctx.fake.queryError = 'pattern ran past its time budget';
    await input.trigger('keydown', { key: 'Enter' });
    await settle();
    expect(wrapper.get('[data-testid="output-server-error"]').text()).toContain(
      'pattern ran past its time budget',
    );
    ctx.fake.queryError = null;
    await input.trigger('keydown', { key: 'Enter' });
    await settle();
    expect(wrapper.get('[data-testid="output-count"]').text()).toBe('1 line(s) matching “hel+o”');
    // A refused pattern typed over it: the filter still in force is named, never hidden.
    await input.setValue('hel(');
    expect(wrapper.get('[data-testid="output-filter-error"]').text()).toMatch(/Still applied: “hel\+o”\.$/);
    expect(wrapper.get('[data-testid="output-count"]').text()).toBe('1 line(s) matching “hel+o”');
  });

  it('stream toggle re-queries that stream', async () => {
    ctx.fake.output.set(ctx.agentId, [
      { stream: 'stdout', text: 'o1' },
      { stream: 'stderr', text: 'e1' },
    ]);
    const { wrapper } = await openViewer();
    await wrapper.get('[data-testid="output-stream-stderr"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('queryOutput').some((q) => (q as { stream: string }).stream === 'stderr')).toBe(
      true,
    );
    expect(wrapper.findAll('[data-testid="output-line"]').map((l) => l.text())).toEqual(['1e1']);
    // A single stream needs no stream tag; in both, stderr lines are tagged and marked.
    await wrapper.get('[data-testid="output-stream-both"]').trigger('click');
    await settle();
    const both = wrapper.findAll('[data-testid="output-line"]');
    expect(both.map((l) => l.attributes('data-stream') ?? 'stdout')).toEqual(['stdout', 'stderr']);
    expect(both.map((l) => l.text())).toEqual(['1o1', '2erre1']);
  });
  it('says how many earlier lines the server dropped, and nothing when it dropped none', async () => {
    ctx.fake.output.set(ctx.agentId, [
      { stream: 'stdout', text: 'kept 1' },
      { stream: 'stdout', text: 'kept 2' },
    ]);
    const { store, wrapper } = await openViewer();
    await settle(10);
    expect(wrapper.find('[data-testid="output-dropped"]').exists()).toBe(false);
    ctx.fake.dropped.set(ctx.agentId, 1234);
    await store.reload();
    await settle(10);
    const banner = wrapper.get('[data-testid="output-dropped"]');
    expect(banner.text()).toContain('1,234 earlier lines dropped');
    expect(banner.text()).toContain('the oldest line it still holds is line 1,235');
    // Numbers count the dropped lines in, so they stay the same as older lines go.
    expect(wrapper.get('[data-testid="output-line"]').text()).toBe('1235kept 1');
    await store.applyFilter('kept');
    await settle(10);
    expect(wrapper.get('[data-testid="output-dropped"]').text()).toContain('the filter searched only');
    ctx.fake.dropped.set(ctx.agentId, 1);
    await store.reload();
    await settle(10);
    expect(wrapper.get('[data-testid="output-dropped"]').text()).toContain('1 earlier line dropped');
    await store.close();
    await settle(10);
    expect(wrapper.find('[data-testid="output-dropped"]').exists()).toBe(false);
  });
});
