import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import App from '../../../../renderer/src/App.vue';
import AgentControls from '../../../../renderer/src/components/AgentControls.vue';
import BatchPanel from '../../../../renderer/src/components/BatchPanel.vue';
import ConfirmDialog from '../../../../renderer/src/components/ConfirmDialog.vue';
import AgentView from '../../../../renderer/src/views/AgentView.vue';
import { consoleRouter } from '../../../../renderer/src/router';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useConfirmStore } from '../../../../renderer/src/stores/confirm';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import type { AgentStatus } from '../../../../shared/protocol/types';
import { freshApp, settle, withFreshApp } from '../setup';

const mounted: VueWrapper[] = [];
afterEach(() => {
  for (const w of mounted.splice(0)) w.unmount();
  document.body.innerHTML = '';
});
function track<T extends VueWrapper>(w: T): T {
  mounted.push(w);
  return w;
}
const keydown = (target: Element, key: string, init: KeyboardEventInit = {}): void => {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
};
const byId = (id: string): HTMLElement | null => document.querySelector(`[data-testid="${id}"]`);

describe('ConfirmDialog', () => {
  const ctx = withFreshApp();
  const targets = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `id-${i}`, name: `build-${i + 1}` }));

  function mountDialog(): { wrapper: VueWrapper; before: HTMLButtonElement } {
    const before = document.createElement('button');
    before.textContent = 'kill it';
    document.body.append(before);
    before.focus();
    const wrapper = track(
      mount(ConfirmDialog, { attachTo: document.body, global: { plugins: [ctx.pinia] } }),
    );
    return { wrapper, before };
  }

  it('names the command, the count and the first agents; Cancel has the focus; Escape cancels and focus returns', async () => {
    const { wrapper, before } = mountDialog();
    expect(wrapper.find('[data-testid="confirm-dialog"]').exists()).toBe(false);
    const answer = useConfirmStore().ask({ command: 'kill', targets: targets(12) });
    await settle();
    const dialog = wrapper.get('[data-testid="confirm-dialog"]');
    expect(dialog.attributes()).toMatchObject({ role: 'dialog', 'aria-modal': 'true' });
    expect(wrapper.get('[data-testid="confirm-question"]').text()).toBe(
      'Kill 12 agents: build-1, build-2, build-3 and 9 more?',
    );
    expect(wrapper.get('[data-testid="confirm-effect"]').text()).toContain('SIGKILL');
    expect(wrapper.get('[data-testid="confirm-yes"]').text()).toBe('Kill 12 agents');
    expect(document.activeElement).toBe(wrapper.get('[data-testid="confirm-cancel"]').element);

    // Enter on Cancel is not a confirmation (only the confirm button's own Enter is).
    keydown(document.activeElement ?? dialog.element, 'Enter');
    await settle();
    expect(useConfirmStore().pending).not.toBeNull();

    keydown(document.activeElement ?? dialog.element, 'Escape');
    expect(await answer).toBe(false);
    await settle();
    expect(wrapper.find('[data-testid="confirm-dialog"]').exists()).toBe(false);
    expect(document.activeElement).toBe(before);
  });

  /** Asks `kill`, ticks "don't ask again" and answers with `button`; resolves the answer. */
  async function answerTicked(
    wrapper: VueWrapper,
    button: 'confirm-yes' | 'confirm-cancel',
  ): Promise<boolean> {
    const answer = useConfirmStore().ask({ command: 'kill', targets: targets(2) });
    await settle();
    await wrapper.get('[data-testid="confirm-dont-ask"]').setValue(true);
    await wrapper.get(`[data-testid="${button}"]`).trigger('click');
    return answer;
  }

  it('keeps Tab inside the dialog', async () => {
    const { wrapper } = mountDialog();
    void useConfirmStore().ask({ command: 'stop', targets: targets(1) });
    await settle();
    const yes = wrapper.get('[data-testid="confirm-yes"]').element as HTMLElement;
    const checkbox = wrapper.get('[data-testid="confirm-dont-ask"]').element as HTMLElement;
    yes.focus();
    keydown(yes, 'Tab');
    expect(document.activeElement).toBe(checkbox);
    keydown(checkbox, 'Tab', { shiftKey: true });
    expect(document.activeElement).toBe(yes);
  });

  it('"don\'t ask again" skips the next question for that command, in this session only', async () => {
    const { wrapper } = mountDialog();
    const confirm = useConfirmStore();
    expect(await answerTicked(wrapper, 'confirm-yes')).toBe(true);

    expect(await confirm.ask({ command: 'kill', targets: targets(1) })).toBe(true);
    expect(confirm.pending).toBeNull();
    // The waiver covers one agent at a time: killing several still asks.
    const many = confirm.ask({ command: 'kill', targets: targets(3) });
    expect(confirm.pending?.targets).toHaveLength(3);
    confirm.answer(false);
    expect(await many).toBe(false);
    // Stop was not waived.
    const stop = confirm.ask({ command: 'stop', targets: targets(1) });
    await settle();
    expect(wrapper.get('[data-testid="confirm-question"]').text()).toBe('Stop agent build-1?');
    expect((wrapper.get('[data-testid="confirm-dont-ask"]').element as HTMLInputElement).checked).toBe(false);
    await wrapper.get('[data-testid="confirm-cancel"]').trigger('click');
    expect(await stop).toBe(false);

    // A new session (page reload: a fresh store) asks again.
    setActivePinia(createPinia());
    const again = useConfirmStore().ask({ command: 'kill', targets: targets(1) });
    expect(useConfirmStore().pending).not.toBeNull();
    useConfirmStore().answer(false);
    expect(await again).toBe(false);
  });

  it('a cancelled question with "don\'t ask again" ticked still asks next time', async () => {
    const { wrapper } = mountDialog();
    const confirm = useConfirmStore();
    expect(await answerTicked(wrapper, 'confirm-cancel')).toBe(false);
    void confirm.ask({ command: 'kill', targets: targets(1) });
    expect(confirm.pending).not.toBeNull();
  });
});

describe('AgentControls', () => {
  async function controlsFor(status: AgentStatus, serverState: 'online' | 'offline' = 'online') {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s', { state: serverState });
    const agentId = ctx.fake.addAgents(serverId, 1, status)[0]?.id ?? '';
    await useServersStore().start();
    await useAgentsStore().open(serverId);
    const wrapper = track(
      mount(AgentControls, { props: { serverId, agentId }, global: { plugins: [ctx.pinia] } }),
    );
    await settle();
    return { ctx, serverId, agentId, wrapper };
  }
  const button = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);
  /** The text of the hint a control's aria-describedby points to. */
  const describedText = (w: VueWrapper, id: string): string => {
    const ref = button(w, id).attributes('aria-describedby') ?? '';
    return ref === '' ? '' : w.find(`[id="${ref}"]`).text();
  };

  it('on a running agent: Resume is off and says why, the rest are on', async () => {
    const { wrapper } = await controlsFor('running');
    const resume = button(wrapper, 'agent-resume');
    expect(resume.attributes('disabled')).toBeDefined();
    expect(resume.attributes('title')).toBe('Resume: the agent is not paused');
    expect(describedText(wrapper, 'agent-resume')).toBe('Resume: the agent is not paused');
    for (const id of ['agent-pause', 'agent-stop', 'agent-kill', 'agent-signal-send'])
      expect(button(wrapper, id).attributes('disabled'), id).toBeUndefined();
    expect(button(wrapper, 'agent-pause').attributes('aria-describedby')).toBeUndefined();
  });

  it('on a paused agent: Pause is off, Resume on', async () => {
    const { wrapper } = await controlsFor('paused');
    expect(button(wrapper, 'agent-pause').attributes('title')).toBe('Pause: the agent is already paused');
    expect(button(wrapper, 'agent-pause').attributes('disabled')).toBeDefined();
    expect(button(wrapper, 'agent-resume').attributes('disabled')).toBeUndefined();
  });

  it.each(['completed', 'failed', 'terminated'] as const)(
    'on a %s agent nothing is controllable, and it says so once',
    async (status) => {
      const { wrapper } = await controlsFor(status);
      const why = `The agent has ended (${status}); nothing to control`;
      for (const id of ['agent-pause', 'agent-resume', 'agent-stop', 'agent-kill', 'agent-signal-send']) {
        expect(button(wrapper, id).attributes('disabled'), id).toBeDefined();
        expect(button(wrapper, id).attributes('title'), id).toBe(why);
        expect(describedText(wrapper, id), id).toBe(why);
      }
      expect(button(wrapper, 'agent-stdin').attributes('disabled')).toBeDefined();
      expect(wrapper.get('[data-testid="agent-controls-hint"]').text()).toBe(why);
    },
  );

  it('on an agent of an offline server the controls stay on and say they are queued', async () => {
    const { wrapper } = await controlsFor('running', 'offline');
    const stop = button(wrapper, 'agent-stop');
    expect(stop.attributes('disabled')).toBeUndefined();
    expect(stop.attributes('title')).toContain('queued until the server is back');
    expect(wrapper.get('[data-testid="agent-controls-hint"]').text()).toContain(
      'queued until the server is back',
    );
  });

  it('Kill, Stop and an ending signal ask first; nothing is sent until confirmed', async () => {
    const { ctx, wrapper, serverId, agentId } = await controlsFor('running');
    const confirm = useConfirmStore();
    await button(wrapper, 'agent-kill').trigger('click');
    expect(confirm.pending).toMatchObject({
      command: 'kill',
      targets: [{ id: agentId, name: 'agent-00000' }],
    });
    confirm.answer(false);
    await settle();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([]);

    await button(wrapper, 'agent-signal-select').setValue('terminate');
    await button(wrapper, 'agent-signal-send').trigger('click');
    expect(confirm.pending?.command).toBe('stop');
    confirm.answer(false);
    await settle();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([]);

    await button(wrapper, 'agent-stop').trigger('click');
    confirm.answer(true);
    await settle();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([{ serverId, agentId, command: 'stop' }]);
  });

  it('a signal that does not end the agent is sent without asking', async () => {
    const { ctx, wrapper } = await controlsFor('running');
    await button(wrapper, 'agent-signal-select').setValue('interrupt');
    await button(wrapper, 'agent-signal-send').trigger('click');
    await settle();
    expect(useConfirmStore().pending).toBeNull();
    expect(ctx.fake.callsOf('controlAgent')).toMatchObject([
      { command: 'signal', payload: { signal: 'interrupt' } },
    ]);
  });
});

describe('pause of a cooperative agent that has not confirmed', () => {
  it('reads "Pause requested — waiting for the agent to confirm" and the badge stays running', async () => {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const agentId = ctx.fake.addAgents(serverId, 1)[0]?.id ?? '';
    ctx.fake.slowToPause.add(agentId);
    const wrapper = track(
      mount(AgentView, { props: { serverId, agentId }, global: { plugins: [ctx.pinia] } }),
    );
    await settle();
    await wrapper.get('[data-testid="agent-pause"]').trigger('click');
    await settle();
    const banner = wrapper.get('[data-testid="agent-command-outcome"] .banner');
    expect(banner.attributes('data-status')).toBe('Pause requested — waiting for the agent to confirm');
    expect(banner.text()).not.toMatch(/\bpaused\b/);
    const badge = wrapper.get('[data-testid="agent-status"]');
    expect(badge.attributes('data-badge')).toBe('running');
    expect(badge.text()).toContain('running');
  });
});

describe('shortcuts s and K (kill)', () => {
  async function app() {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('local', {}, true);
    const [running, done] = [
      ctx.fake.addAgents(serverId, 1)[0],
      ctx.fake.addAgents(serverId, 1, 'completed')[0],
    ];
    // The app's router is one per page: start from an empty URL, as a first visit.
    await consoleRouter().replace('/');
    const wrapper = track(
      mount(App, { attachTo: document.body, global: { plugins: [ctx.pinia, consoleRouter()] } }),
    );
    await settle(10);
    return { ctx, serverId, wrapper, running: running?.id ?? '', done: done?.id ?? '' };
  }

  it('K asks first and sends nothing until confirmed; Escape cancels', async () => {
    const { ctx, serverId, running } = await app();
    useAgentsStore().click(running, {});
    keydown(document.body, 'K', { shiftKey: true });
    await settle();
    expect(byId('confirm-question')?.textContent).toBe('Kill agent agent-00000?');
    expect(ctx.fake.callsOf('controlAgent')).toEqual([]);
    keydown(document.activeElement ?? document.body, 'Escape');
    await settle();
    expect(byId('confirm-dialog')).toBeNull();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([]);
    // Escape closed only the question: the shortcut path is still usable.
    keydown(document.body, 's');
    await settle();
    expect(byId('confirm-question')?.textContent).toBe('Stop agent agent-00000?');
    byId('confirm-yes')?.click();
    await settle();
    expect(ctx.fake.callsOf('controlAgent')).toEqual([{ serverId, agentId: running, command: 'stop' }]);
  });

  it('a shortcut for a control that does not apply says why and sends nothing', async () => {
    const { ctx, running, done } = await app();
    const agents = useAgentsStore();
    agents.click(done, {});
    keydown(document.body, 'K', { shiftKey: true });
    await settle();
    expect(byId('confirm-dialog')).toBeNull();
    expect(byId('toast')?.textContent).toContain('The agent has ended (completed); nothing to control');
    agents.click(running, {});
    keydown(document.body, 'r');
    await settle();
    expect(byId('toast')?.textContent).toContain('Resume: the agent is not paused');
    expect(ctx.fake.callsOf('controlAgent')).toEqual([]);
  });
});

describe('BatchPanel confirmation and eligibility', () => {
  async function panel(statuses: AgentStatus[]) {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const ids = statuses.map((s) => ctx.fake.addAgents(serverId, 1, s)[0]?.id ?? '');
    const agents = useAgentsStore();
    await agents.open(serverId);
    agents.toggleAllFiltered();
    const wrapper = track(mount(BatchPanel, { props: { serverId }, global: { plugins: [ctx.pinia] } }));
    await settle();
    return { ctx, serverId, ids, wrapper };
  }

  it('batch stop names the count and sends nothing until confirmed', async () => {
    const { ctx, wrapper, ids } = await panel(['running', 'running', 'paused']);
    await wrapper.get('[data-testid="batch-command"]').setValue('stop');
    const confirm = useConfirmStore();
    await wrapper.get('[data-testid="batch-run"]').trigger('click');
    expect(confirm.pending?.command).toBe('stop');
    expect(confirm.pending?.targets.map((t) => t.id)).toEqual(ids);
    confirm.answer(false);
    await settle();
    expect(ctx.fake.callsOf('batchControl')).toEqual([]);
    await wrapper.get('[data-testid="batch-run"]').trigger('click');
    confirm.answer(true);
    await settle();
    expect(ctx.fake.callsOf('batchControl')).toMatchObject([{ command: 'stop', agentIds: ids }]);
  });

  it('pause needs no confirmation', async () => {
    const { ctx, wrapper } = await panel(['running']);
    await wrapper.get('[data-testid="batch-command"]').setValue('pause');
    await wrapper.get('[data-testid="batch-run"]').trigger('click');
    await settle();
    expect(useConfirmStore().pending).toBeNull();
    expect(ctx.fake.callsOf('batchControl')).toHaveLength(1);
  });

  it('counts the targets a command does not apply to, says why, and leaves them out on request', async () => {
    const { wrapper, ids } = await panel(['running', 'completed', 'terminated', 'paused']);
    await wrapper.get('[data-testid="batch-command"]').setValue('resume');
    const note = wrapper.get('[data-testid="batch-skipped"]');
    expect(note.text()).toContain(
      '3 of 4 selected agents cannot take this command — Resume: the agent is not paused. Sent anyway, the server will refuse them.',
    );
    expect(note.text()).toContain('Resume: the agent is not paused');
    await wrapper.get('[data-testid="batch-command"]').setValue('kill');
    expect(wrapper.get('[data-testid="batch-skipped"]').text()).toContain('2 of 4 selected agents');
    await wrapper.get('[data-testid="batch-leave-out"]').trigger('click');
    expect(useAgentsStore().selectedIds).toEqual([ids[0], ids[3]]);
    expect(wrapper.find('[data-testid="batch-skipped"]').exists()).toBe(false);
    expect(wrapper.get('[data-testid="batch-run"]').text()).toBe('Run on 2 agents');
  });
});
