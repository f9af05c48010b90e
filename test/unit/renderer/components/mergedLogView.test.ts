import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { useMergedLogStore } from '../../../../renderer/src/stores/mergedLog';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import MergedLogView from '../../../../renderer/src/views/MergedLogView.vue';
import { manualFrames, settle, withFreshApp } from '../setup';

describe('MergedLogView', () => {
  const ctx = withFreshApp();

  async function mountLog(lineCount = 0) {
    const north = ctx.fake.addServer('north');
    const south = ctx.fake.addServer('south');
    const [a] = ctx.fake.addAgents(north, 1);
    const [b] = ctx.fake.addAgents(south, 1);
    if (!a || !b) throw new Error('agents missing');
    await useServersStore().start();
    const frames = manualFrames();
    const wrapper = mount(MergedLogView, {
      props: {
        agents: [
          { serverId: north, agentId: a.id },
          { serverId: south, agentId: b.id },
        ],
        viewportFallback: 360,
      },
      global: { plugins: [ctx.pinia] },
    });
    await settle();
    const subOf = (agentId: string): string =>
      [...ctx.fake.subscriptions].find(([, s]) => s.kind === 'logs' && s.agentId === agentId)?.[0] ?? '';
    const send = (agentId: string, text: string): void => {
      ctx.fake.emit('logs', {
        subscriptionId: subOf(agentId),
        chunks: [{ stream: 'stdout', text, sequence: 0 }],
      });
    };
    if (lineCount > 0) {
      send(a.id, Array.from({ length: lineCount }, (_, i) => `line ${i}`).join('\n') + '\n');
      frames.run();
      await settle();
    }
    return { wrapper, frames, a, b, send };
  }

  it('shows each line with its agent’s name prefix and colour, the legend naming each server', async () => {
    const { wrapper, frames, a, b, send } = await mountLog();
    // Agents may have written before the log opened: it never says they wrote nothing.
    expect(wrapper.get('[data-testid="merged-log-empty"]').text()).toMatch(
      /^No new output since \d\d:\d\d:\d\d: lines appear here as the agents write them\.$/,
    );
    expect(wrapper.get('[data-testid="merged-log-since"]').text()).toMatch(
      /^Lines written since \d\d:\d\d:\d\d, when this log opened; each agent’s earlier output is in its own view\.$/,
    );
    send(a.id, 'hello from a\n');
    send(b.id, 'hello from b\n');
    frames.run();
    await settle();
    const lines = wrapper.findAll('[data-testid="merged-log-line"]');
    expect(lines.map((l) => `${l.get('.prefix').text()}|${l.get('.text').text()}`)).toEqual([
      'agent-00000|hello from a',
      'agent-00000|hello from b',
    ]);
    // Same name on two servers: different colours, and the legend says which server is which.
    expect(lines.map((l) => l.attributes('data-agent-id'))).toEqual([a.id, b.id]);
    const colours = lines.map((l) => l.attributes('style') ?? '');
    expect(colours[0]).toContain('--agent-colour: light-dark(');
    expect(colours[0]).not.toBe(colours[1]);
    const legend = wrapper.findAll('[data-testid="merged-log-agent"]').map((c) => c.text());
    expect(legend).toEqual(['agent-00000 · north', 'agent-00000 · south']);
    expect(wrapper.get('h2').text()).toBe('Merged log of 2 agents');
    wrapper.unmount();
  });

  it('a scroll the browser makes as lines arrive keeps follow on; a user scroll up turns it off', async () => {
    const { wrapper, frames, a, send } = await mountLog(100);
    const log = useMergedLogStore();
    const viewport = wrapper.get('[data-testid="merged-log-viewport"]');
    const el = viewport.element as HTMLElement;
    expect(log.following).toBe(true);
    const bottomBefore = el.scrollTop;
    send(a.id, 'x1\nx2\nx3\n');
    frames.run();
    await settle();
    // The browser clamps the position to the old height and reports it: no user scrolled.
    el.scrollTop = bottomBefore;
    await viewport.trigger('scroll');
    await settle();
    expect(log.following).toBe(true);
    expect(wrapper.findAll('[data-testid="merged-log-line"]').at(-1)?.get('.text').text()).toBe('x3');

    await viewport.trigger('wheel', { deltaY: -120 });
    el.scrollTop = 0;
    await viewport.trigger('scroll');
    await settle();
    expect(log.following).toBe(false);
    wrapper.unmount();
  });

  it('counts lines that arrive while not following in a pill that follows again', async () => {
    const { wrapper, frames, a, send } = await mountLog(100);
    const log = useMergedLogStore();
    const viewport = wrapper.get('[data-testid="merged-log-viewport"]');
    const el = viewport.element as HTMLElement;
    await viewport.trigger('wheel', { deltaY: -120 });
    el.scrollTop = 0;
    await viewport.trigger('scroll');
    await settle();
    expect(log.following).toBe(false);
    expect(wrapper.find('[data-testid="merged-log-new-lines"]').exists()).toBe(false);
    send(a.id, 'y1\n');
    frames.run();
    await settle();
    expect(wrapper.get('[data-testid="merged-log-new-lines"]').text()).toBe('1 new line ↓');
    // Lines the filter hides are not counted: the pill promises lines the operator will see.
    expect(log.applyFilter('^keep')).toBe(true);
    send(a.id, 'keep 1\nhidden\nkeep 2\n');
    frames.run();
    await settle();
    expect(wrapper.get('[data-testid="merged-log-new-lines"]').text()).toBe('3 new lines ↓');
    await wrapper.get('[data-testid="merged-log-new-lines"]').trigger('click');
    await settle();
    expect(log.following).toBe(true);
    expect(wrapper.find('[data-testid="merged-log-new-lines"]').exists()).toBe(false);
    expect(wrapper.findAll('[data-testid="merged-log-line"]').at(-1)?.get('.text').text()).toBe('keep 2');
    wrapper.unmount();
  });

  it('renders only a window of a long log', async () => {
    const { wrapper } = await mountLog(5000);
    expect(wrapper.get('[data-testid="merged-log-count"]').text()).toBe('5,000 line(s)');
    const rendered = wrapper.findAll('[data-testid="merged-log-line"]');
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered.length).toBeLessThan(80);
    wrapper.unmount();
  });

  it('shows a refused filter’s reason and keeps the lines', async () => {
    const { wrapper } = await mountLog(3);
    const input = wrapper.get('[data-testid="merged-log-filter"]');
    await input.setValue('[');
    expect(wrapper.get('[data-testid="merged-log-filter-error"]').text()).toMatch(
      /^Invalid regular expression/,
    );
    expect(wrapper.get('[data-testid="merged-log-filter-apply"]').attributes('disabled')).toBeDefined();
    await input.setValue('line [12]');
    await input.trigger('keydown', { key: 'Enter' });
    expect(wrapper.get('[data-testid="merged-log-count"]').text()).toBe('2 line(s) matching “line [12]”');
    // A refused pattern afterwards: the field shows it, the count and the error name the one in force.
    await input.setValue('line (');
    expect(wrapper.get('[data-testid="merged-log-filter-error"]').text()).toMatch(
      /^Invalid regular expression: .* Still applied: “line \[12\]”\.$/,
    );
    expect(wrapper.get('[data-testid="merged-log-count"]').text()).toBe('2 line(s) matching “line [12]”');
    wrapper.unmount();
  });

  it('pauses and resumes, saying how many lines wait', async () => {
    const { wrapper, frames, a, send } = await mountLog(1);
    const pause = wrapper.get('[data-testid="merged-log-pause"]');
    await pause.trigger('click');
    send(a.id, 'later 1\nlater 2\n');
    frames.run();
    await settle();
    expect(pause.text()).toBe('Resume (2 new)');
    expect(pause.attributes('aria-pressed')).toBe('true');
    await pause.trigger('click');
    expect(wrapper.get('[data-testid="merged-log-count"]').text()).toBe('3 line(s)');
    wrapper.unmount();
  });

  it('stops its tails when it is closed', async () => {
    const { wrapper } = await mountLog();
    expect([...ctx.fake.subscriptions.values()].filter((s) => s.kind === 'logs')).toHaveLength(2);
    wrapper.unmount();
    await settle();
    expect([...ctx.fake.subscriptions.values()].filter((s) => s.kind === 'logs')).toHaveLength(0);
    expect(useMergedLogStore().sources).toEqual([]);
  });
});
