import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import App from '../../../../renderer/src/App.vue';
import { consoleRouter } from '../../../../renderer/src/router';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useConfirmStore } from '../../../../renderer/src/stores/confirm';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import { freshApp, settle } from '../setup';

const MISSING_AGENT = '0f8e4c2a-3b1d-4e5f-9a6b-7c8d9e0f1a2b';

const press = (key: string, target: EventTarget = document.body, mods: KeyboardEventInit = {}): void => {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, ...mods }));
};

/** An app with one (not embedded) server of three agents, opened on `path` as a reload or link would. */
describe('navigation: deep links, not found, j/k and the command palette', () => {
  let ctx: ReturnType<typeof freshApp>;
  let wrapper: VueWrapper | null = null;
  let serverId: string;
  let agentIds: string[];
  const find = (id: string) => wrapper?.find(`[data-testid="${id}"]`);

  async function openAt(path: string): Promise<VueWrapper> {
    await consoleRouter().replace(path);
    wrapper = mount(App, { attachTo: document.body, global: { plugins: [ctx.pinia, consoleRouter()] } });
    return wrapper;
  }

  /** Focuses the agents view's Refresh button, then presses Ctrl (or Cmd) + K on it. */
  async function paletteFromRefresh(w: VueWrapper, mods: KeyboardEventInit): Promise<HTMLElement> {
    const refresh = w.get('[data-testid="agents-refresh"]').element as HTMLElement;
    refresh.focus();
    press('k', refresh, mods);
    await settle();
    return refresh;
  }

  beforeEach(() => {
    ctx = freshApp();
    serverId = ctx.fake.addServer('lab');
    agentIds = ctx.fake.addAgents(serverId, 3).map((a) => a.id);
  });
  afterEach(() => {
    wrapper?.unmount();
    wrapper = null;
  });

  it('a link to an agent waits for the server list, then opens that agent', async () => {
    const w = await openAt(`/servers/${serverId}/agents/${agentIds[1]}`);
    expect(find('route-waiting')?.text()).toContain('Loading the servers');
    await settle(10);
    expect(w.get('[data-testid="agent-view"]').attributes('data-agent-id')).toBe(agentIds[1]);
    expect(w.get('h2').text()).toBe('agent-00001');
  });

  it('a link to an unknown server says so, with a way back to the servers', async () => {
    const w = await openAt('/servers/nowhere');
    await settle(10);
    expect(find('route-missing-title')?.text()).toBe('Server not found');
    expect(find('route-missing-detail')?.text()).toContain('nowhere');
    await w.get('[data-testid="route-missing-back"]').trigger('click');
    await settle();
    expect(find('servers-view')?.exists()).toBe(true);
  });

  it('a link to an agent the server does not list says so, once the list has loaded, with a way back', async () => {
    const w = await openAt(`/servers/${serverId}/agents/${MISSING_AGENT}`);
    await settle(10);
    expect(find('route-missing-title')?.text()).toBe('Agent not found');
    expect(find('route-missing-detail')?.text()).toContain(MISSING_AGENT);
    expect(find('route-missing-back')?.text()).toBe('← Agents of lab');
    await w.get('[data-testid="route-missing-back"]').trigger('click');
    await settle();
    expect(w.findAll('[data-testid="agent-row"]')).toHaveLength(3);
  });

  it('a malformed agent id is named as such, not looked up', async () => {
    await openAt(`/servers/${serverId}/agents/not-a-uuid`);
    await settle(10);
    expect(find('route-missing-title')?.text()).toBe('Not an agent link');
    expect(find('route-missing-detail')?.text()).toContain('UUID');
    expect(find('agent-view')?.exists()).toBe(false);
  });

  it('a deep link is not overridden by the first-run landing on the embedded server', async () => {
    ctx = freshApp();
    const embedded = ctx.fake.addServer('local', {}, true);
    ctx.fake.addAgents(embedded, 1);
    await openAt('/queue');
    await settle(10);
    expect(find('queue-view')?.exists()).toBe(true);
    expect(useUiStore().view).toBe('queue');
  });

  it('agent names are real links to the agent, and a plain click opens it in the app', async () => {
    const w = await openAt(`/servers/${serverId}`);
    await settle(10);
    const link = w.get(`[data-agent-id="${agentIds[2]}"] [data-testid="agent-open"]`);
    expect(link.attributes('href')).toBe(`#/servers/${serverId}/agents/${agentIds[2]}`);
    await link.trigger('click');
    await settle();
    expect(consoleRouter().currentRoute.value.params.agentId).toBe(agentIds[2]);
    expect(find('agent-view')?.exists()).toBe(true);
  });

  it('j and k move the row selection and focus the row; Enter opens it; not while typing', async () => {
    const w = await openAt(`/servers/${serverId}`);
    await settle(10);
    const agents = useAgentsStore();
    const order = agents.visibleIds;
    press('j');
    await settle();
    expect(agents.selectedIds).toEqual([order[0]]);
    press('j');
    press('j');
    press('j'); // stops at the last row
    await settle();
    expect(agents.selectedIds).toEqual([order[2]]);
    press('k');
    await settle();
    expect(agents.selectedIds).toEqual([order[1]]);
    expect((document.activeElement as HTMLElement | null)?.dataset.agentId).toBe(order[1]);
    press('j', w.get('[data-testid="agents-filter"]').element);
    await settle();
    expect(agents.selectedIds).toEqual([order[1]]);
    press('Enter', document.activeElement ?? document.body);
    await settle();
    expect(w.get('[data-testid="agent-view"]').attributes('data-agent-id')).toBe(order[1]);
  });

  it('Ctrl+K opens the palette on the input; typing an agent name and Enter opens it', async () => {
    const w = await openAt(`/servers/${serverId}`);
    await settle(10);
    await paletteFromRefresh(w, { ctrlKey: true });
    const palette = w.get('[data-testid="command-palette"]');
    expect(palette.attributes('role')).toBe('dialog');
    expect(palette.attributes('aria-modal')).toBe('true');
    const input = w.get('[data-testid="palette-input"]');
    expect(document.activeElement).toBe(input.element);
    await input.setValue('agent-00002');
    const options = w.findAll('[data-testid="palette-option"]');
    expect(options.map((o) => o.text())).toEqual([expect.stringContaining('Open agent agent-00002')]);
    expect(options[0]?.attributes('aria-selected')).toBe('true');
    expect(input.attributes('aria-activedescendant')).toBe(options[0]?.attributes('id'));
    await input.trigger('keydown', { key: 'Enter' });
    await settle();
    expect(find('command-palette')?.exists()).toBe(false);
    expect(w.get('[data-testid="agent-view"]').attributes('data-agent-id')).toBe(agentIds[2]);
  });

  it('arrows move the active option, Escape closes and gives focus back', async () => {
    const w = await openAt(`/servers/${serverId}`);
    await settle(10);
    const refresh = await paletteFromRefresh(w, { metaKey: true });
    const input = w.get('[data-testid="palette-input"]');
    await input.trigger('keydown', { key: 'ArrowDown' });
    expect(w.findAll('[data-testid="palette-option"]')[1]?.attributes('aria-selected')).toBe('true');
    await input.trigger('keydown', { key: 'ArrowUp' });
    await input.trigger('keydown', { key: 'ArrowUp' }); // wraps to the last
    const all = w.findAll('[data-testid="palette-option"]');
    expect(all.at(-1)?.attributes('aria-selected')).toBe('true');
    await input.trigger('keydown', { key: 'Escape' });
    await settle();
    expect(find('command-palette')?.exists()).toBe(false);
    expect(document.activeElement).toBe(refresh);
  });

  it('palette actions run through the shortcut runner: pause is sent, stop asks the confirmation gate first', async () => {
    const w = await openAt(`/servers/${serverId}/agents/${agentIds[0]}`);
    await settle(10);
    async function runFromPalette(query: string): Promise<void> {
      useUiStore().paletteOpen = true;
      await settle();
      const input = w.get('[data-testid="palette-input"]');
      await input.setValue(query);
      await input.trigger('keydown', { key: 'Enter' });
      await settle();
    }
    await runFromPalette('pause the selected');
    expect(ctx.fake.callsOf('controlAgent')).toEqual([{ serverId, agentId: agentIds[0], command: 'pause' }]);
    await runFromPalette('stop the selected');
    const confirm = useConfirmStore();
    expect(confirm.pending?.command).toBe('stop');
    expect(confirm.pending?.targets).toEqual([{ id: agentIds[0], name: 'agent-00000' }]);
    expect(ctx.fake.callsOf('controlAgent')).toHaveLength(1); // nothing sent before the answer
    confirm.answer(true);
    await settle();
    expect(ctx.fake.callsOf('controlAgent').at(-1)).toEqual({
      serverId,
      agentId: agentIds[0],
      command: 'stop',
    });
  });

  it('Back and Forward move between the agent and its server, through the route', async () => {
    const w = await openAt(`/servers/${serverId}`);
    await settle(10);
    useUiStore().openAgent(serverId, agentIds[0] ?? '');
    await settle();
    expect(find('agent-view')?.exists()).toBe(true);
    consoleRouter().back();
    await settle(20);
    expect(find('agents-view')?.exists()).toBe(true);
    consoleRouter().forward();
    await settle(20);
    expect(w.get('[data-testid="agent-view"]').attributes('data-agent-id')).toBe(agentIds[0]);
  });
});
