import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import App from '../../../../renderer/src/App.vue';
import { consoleRouter } from '../../../../renderer/src/router';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import { freshApp, settle } from '../setup';

/** Presses `key`; an upper-case letter is typed with Shift, as a person types it. */
const press = (key: string, target: EventTarget = document.body): void => {
  const shiftKey = key !== key.toLowerCase();
  target.dispatchEvent(new KeyboardEvent('keydown', { key, shiftKey, bubbles: true }));
};

describe('App shell and keyboard shortcuts', () => {
  let ctx: ReturnType<typeof freshApp>;
  let wrapper: VueWrapper;
  let serverId: string;
  beforeEach(async () => {
    ctx = freshApp();
    serverId = ctx.fake.addServer('local', {}, true);
    ctx.fake.addAgents(serverId, 3);
    // The app's router is one per page: each test starts from an empty URL, as a first visit.
    await consoleRouter().replace('/');
    wrapper = mount(App, { attachTo: document.body, global: { plugins: [ctx.pinia, consoleRouter()] } });
    await settle(10);
  });
  afterEach(() => {
    wrapper.unmount();
  });

  it('a new user with only the embedded server lands on its agents', () => {
    expect(wrapper.find('[data-testid="agents-view"]').exists()).toBe(true);
    expect(wrapper.findAll('[data-testid="agent-row"]')).toHaveLength(3);
  });

  it('? opens the help, Escape closes it; q toggles the queue panel; n opens spawn', async () => {
    const steps: [key: string, testid: string, shown: boolean][] = [
      ['?', 'shortcut-help', true],
      ['Escape', 'shortcut-help', false],
      ['q', 'queue-view', true],
      ['q', 'agents-view', true],
      ['n', 'spawn-dialog', true],
    ];
    for (const [key, testid, shown] of steps) {
      press(key);
      await settle();
      expect(wrapper.find(`[data-testid="${testid}"]`).exists(), `${testid} after ${key}`).toBe(shown);
    }
  });

  it('keys typed into a field are text, not shortcuts', async () => {
    const filter = wrapper.get('[data-testid="agents-filter"]');
    press('q', filter.element);
    press('?', filter.element);
    await settle();
    expect(wrapper.find('[data-testid="queue-view"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="shortcut-help"]').exists()).toBe(false);
  });

  it('p pauses the selected agent and reports the outcome; with several selected it opens batch', async () => {
    const agents = useAgentsStore();
    const [first] = agents.visibleIds;
    agents.click(first ?? '', {});
    press('p');
    await settle();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([{ serverId, agentId: first, command: 'pause' }]);
    expect(wrapper.get('[data-testid="toast"]').text()).toContain('Done');
    expect(agents.getRow(first ?? '')?.status).toBe('paused');
    agents.toggleAllFiltered(); // one was selected: now all shown are
    expect(agents.selectedIds).toHaveLength(3);
    press('K');
    await settle();
    expect(useUiStore().batchOpen).toBe(true);
    expect((wrapper.get('[data-testid="batch-command"]').element as HTMLSelectElement).value).toBe('kill');
    expect(ctx.fake.callsOf('batchControl')).toHaveLength(0); // the operator confirms a batch
  });

  it('/ focuses the agents filter', async () => {
    press('/');
    await settle();
    expect(document.activeElement).toBe(wrapper.get('[data-testid="agents-filter"]').element);
  });

  it('/ focuses the output filter in the agent view', async () => {
    await wrapper.get('[data-testid="agent-open"]').trigger('click');
    await settle();
    press('/');
    await settle();
    expect(document.activeElement).toBe(wrapper.get('[data-testid="output-filter"]').element);
  });
});
