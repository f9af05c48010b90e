import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import OutputViewer from '../../../../renderer/src/components/OutputViewer.vue';
import { useOutputStore } from '../../../../renderer/src/stores/output';
import { SAVED_FILTERS_KEY } from '../../../../renderer/src/stores/savedFilters';
import type { OutputLine } from '../fakeApi';
import { settle, withFreshAgent } from '../setup';

/** 10 rows of 18 px fit the fallback viewport. */
const VIEWPORT = 180;

describe('OutputViewer: follow, numbers, marks and tools', () => {
  const ctx = withFreshAgent();

  async function openViewer(lines: { stream: 'stdout' | 'stderr'; text: string }[]) {
    ctx.fake.output.set(ctx.agentId, lines);
    const store = useOutputStore();
    const wrapper = mount(OutputViewer, {
      props: { viewportFallback: VIEWPORT },
      global: { plugins: [ctx.pinia] },
      attachTo: document.body,
    });
    await store.open(ctx.serverId, ctx.agentId);
    await settle(10);
    const viewport = wrapper.get('[data-testid="output-viewport"]');
    const el = viewport.element as HTMLElement;
    /** New lines from the live tail (and in the "server" store, as the agent printed them). */
    const print = async (texts: string[], stream: 'stdout' | 'stderr' = 'stdout') => {
      ctx.fake.output.get(ctx.agentId)?.push(...texts.map((text) => ({ stream, text })));
      ctx.fake.emit('logs', {
        subscriptionId: store.tailId ?? '',
        chunks: [{ stream, text: texts.map((t) => `${t}\n`).join(''), sequence: 1 }],
      });
      await settle(10);
    };
    const shown = () => wrapper.findAll('[data-testid="output-line"]');
    return { store, wrapper, viewport, el, print, shown };
  }

  const numbered = (n: number): OutputLine[] =>
    Array.from({ length: n }, (_, i) => ({ stream: 'stdout', text: `l${i}` }));

  it('a scroll the browser makes after new content keeps follow on and the newest line in view', async () => {
    const { store, viewport, el, print, shown } = await openViewer(numbered(100));
    expect(store.following).toBe(true);
    const bottomBefore = el.scrollTop;
    await print(['a', 'b', 'c', 'd', 'e']);
    // The browser clamps the position to the old height and reports it: no user scrolled.
    el.scrollTop = bottomBefore;
    await viewport.trigger('scroll');
    await settle(10);
    expect(store.following).toBe(true);
    expect(shown().at(-1)?.text()).toBe('105e');
    expect(viewportQuery(viewport.element)).toBeNull();
  });

  it('a user scroll up turns follow off and counts new lines in a pill that resumes following', async () => {
    const { store, wrapper, viewport, el, print, shown } = await openViewer(numbered(100));
    await viewport.trigger('wheel', { deltaY: -120 });
    el.scrollTop = 0;
    await viewport.trigger('scroll');
    await settle(10);
    expect(store.following).toBe(false);
    expect(wrapper.find('[data-testid="output-new-lines"]').exists()).toBe(false);
    await print(['x1', 'x2', 'x3']);
    expect(wrapper.get('[data-testid="output-new-lines"]').text()).toBe('3 new lines ↓');
    await print(['x4', 'x5']);
    expect(wrapper.get('[data-testid="output-new-lines"]').text()).toBe('5 new lines ↓');
    expect(shown()[0]?.text()).toBe('1l0'); // still where the operator scrolled to
    await wrapper.get('[data-testid="output-new-lines"]').trigger('click');
    await settle(10);
    expect(store.following).toBe(true);
    expect(wrapper.find('[data-testid="output-new-lines"]').exists()).toBe(false);
    expect(shown().at(-1)?.text()).toBe('105x5');
    expect((wrapper.get('[data-testid="output-follow"]').element as HTMLInputElement).checked).toBe(true);
  });

  it('an up key in the viewport also leaves the tail', async () => {
    const { store, viewport, el } = await openViewer(numbered(100));
    await viewport.trigger('keydown', { key: 'PageUp' });
    el.scrollTop = 500;
    await viewport.trigger('scroll');
    expect(store.following).toBe(false);
  });

  it('filtered lines keep their original numbers, matches are marked, "show in context" jumps there', async () => {
    const lines = numbered(200);
    lines[57] = { stream: 'stderr', text: 'error: disk full' };
    lines[150] = { stream: 'stdout', text: 'no error here <b>x</b>' };
    ctx.fake.dropped.set(ctx.agentId, 1000);
    const { store, wrapper, shown } = await openViewer(lines);
    await store.applyFilter('error');
    await settle(10);
    expect(shown().map((l) => l.attributes('data-number'))).toEqual(['1058', '1151']);
    const marks = wrapper.findAll('[data-testid="output-match"]');
    expect(marks.map((m) => m.text())).toEqual(['error', 'error']);
    // Text, never HTML: the angle brackets are shown as typed.
    expect(shown()[1]?.find('b').exists()).toBe(false);
    expect(shown()[1]?.text()).toContain('<b>x</b>');
    await shown()[0]?.get('[data-testid="output-show-context"]').trigger('click');
    await settle(10);
    expect(store.appliedFilter).toBe('');
    expect(store.following).toBe(false);
    const context = wrapper.get('.line.context');
    expect(context.attributes('data-number')).toBe('1058');
    expect(context.attributes('data-index')).toBe('57');
    expect(context.attributes('data-stream')).toBe('stderr');
    expect(shown().length).toBeGreaterThan(1); // lines around it
  });

  it('shows no numbers for filtered lines from a server that does not report them, and says why', async () => {
    ctx.fake.lineNumbers = false;
    const { store, wrapper, shown } = await openViewer(numbered(30));
    // Unfiltered the numbers are still right: line k of the view is k + 1 (nothing dropped).
    expect(
      shown().every((l) => l.attributes('data-number') === String(Number(l.attributes('data-index')) + 1)),
    ).toBe(true);
    expect(wrapper.find('[data-testid="output-numbers-missing"]').exists()).toBe(false);
    await store.applyFilter('l2');
    await settle(10);
    expect(shown().map((l) => l.get('[data-testid="output-line-number"]').text())).toEqual(
      Array(11).fill(''),
    );
    expect(wrapper.find('[data-testid="output-show-context"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="output-numbers-missing"]').text()).toContain('output_line_numbers');
  });

  it('saves filters per server (validated, persisted), applies and deletes them', async () => {
    const { store, wrapper } = await openViewer(numbered(30));
    const save = () => wrapper.get('[data-testid="output-saved-filter-save"]').trigger('click');
    await save();
    expect(wrapper.get('[data-testid="output-saved-filter-error"]').text()).toContain(
      'Give the filter a name',
    );
    await wrapper.get('[data-testid="output-saved-filter-name"]').setValue('twos');
    await save();
    expect(wrapper.get('[data-testid="output-saved-filter-error"]').text()).toContain('Type a filter');
    await wrapper.get('[data-testid="output-filter"]').setValue('/L2/i');
    await wrapper.get('[data-testid="output-stream-stdout"]').trigger('click');
    await save();
    expect(wrapper.find('[data-testid="output-saved-filter-error"]').exists()).toBe(false);
    expect(JSON.parse(localStorage.getItem(SAVED_FILTERS_KEY) ?? '{}')).toEqual({
      [ctx.serverId]: [{ name: 'twos', filter: '/L2/i', stream: 'stdout' }],
    });
    await store.applyFilter('');
    await wrapper.get('[data-testid="output-stream-both"]').trigger('click');
    await settle(10);
    await wrapper.get('[data-testid="output-saved-filter"]').setValue('twos');
    await settle(10);
    expect(store.appliedFilter).toBe('/L2/i');
    expect(store.stream).toBe('stdout');
    expect(store.total).toBe(11);
    await wrapper.get('[data-testid="output-saved-filter-delete"]').trigger('click');
    expect(JSON.parse(localStorage.getItem(SAVED_FILTERS_KEY) ?? '{}')).toEqual({ [ctx.serverId]: [] });
    localStorage.removeItem(SAVED_FILTERS_KEY);
  });

  it('downloads with progress, and Cancel stops it without saving', async () => {
    const { wrapper } = await openViewer(numbered(30));
    let release: () => void = () => undefined;
    ctx.fake.gate = new Promise<void>((r) => (release = r));
    await wrapper.get('[data-testid="output-download-all"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="output-download-progress"]').exists()).toBe(true);
    expect(wrapper.find('[data-testid="output-download-all"]').exists()).toBe(false);
    await wrapper.get('[data-testid="output-download-cancel"]').trigger('click');
    release();
    ctx.fake.gate = null;
    await settle(10);
    expect(wrapper.find('[data-testid="output-download-progress"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="output-download-message"]').text()).toBe(
      'Download cancelled; nothing was saved.',
    );
  });
});

/** The pill, if shown (it must not be while following). */
function viewportQuery(el: Element): Element | null {
  return el.parentElement?.querySelector('[data-testid="output-new-lines"]') ?? null;
}
