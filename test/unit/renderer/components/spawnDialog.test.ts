import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import SpawnDialog from '../../../../renderer/src/components/SpawnDialog.vue';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { useUiStore } from '../../../../renderer/src/stores/ui';
import type { ServerStatus } from '../../../../shared/domain/server';
import { fillFields, settle, submitForm, withFreshApp } from '../setup';

const sel = (id: string): string => `[data-testid="${id}"]`;

describe('SpawnDialog', () => {
  const ctx = withFreshApp();

  /** Mounts the dialog for a server whose status says `over` (by default our server's backends). */
  async function open(over: Partial<ServerStatus> = {}) {
    const serverId = ctx.fake.addServer('s', over);
    await useServersStore().refresh();
    const wrapper = mount(SpawnDialog, { props: { serverId }, global: { plugins: [ctx.pinia] } });
    await settle();
    return { serverId, wrapper };
  }

  it('offers the backends the server advertises, with "other" for its program-cli names', async () => {
    const { serverId, wrapper } = await open();
    const select = wrapper.get(sel('spawn-backend'));
    expect(select.element.tagName).toBe('SELECT');
    expect(select.findAll('option').map((o) => o.text())).toEqual([
      'claude',
      'opencode',
      'shell',
      'other: a program-cli name…',
    ]);
    expect((select.element as HTMLSelectElement).value).toBe('shell');
    await select.setValue('(other)');
    await fillFields(wrapper, { 'spawn-backend-cli': 'gemini', 'spawn-name': 'g', 'spawn-task': 'hello' });
    await submitForm(wrapper, 'spawn-dialog');
    expect(wrapper.get(sel('spawn-backend-error')).text()).toMatch(/ending in -cli/);
    expect(ctx.fake.callsOf('spawnAgent')).toHaveLength(0);
    await fillFields(wrapper, { 'spawn-backend-cli': 'gemini-cli' });
    await submitForm(wrapper, 'spawn-dialog');
    expect(ctx.fake.callsOf('spawnAgent')).toEqual([
      { serverId, config: { name: 'g', model_backend: 'gemini-cli', task: 'hello', environment: {} } },
    ]);
  });

  it('takes a typed backend, with a hint, from a server that lists none (Rust 1.0.0)', async () => {
    const { serverId, wrapper } = await open({ backends: null, capabilities: [], legacy: true });
    const input = wrapper.get(sel('spawn-backend'));
    expect(input.element.tagName).toBe('INPUT');
    expect(wrapper.get(sel('spawn-backend-help')).text()).toContain('does not list its backends');
    await fillFields(wrapper, { 'spawn-backend': 'claude', 'spawn-name': 'c', 'spawn-task': 'summarize' });
    await submitForm(wrapper, 'spawn-dialog');
    expect(ctx.fake.callsOf('spawnAgent')).toEqual([
      { serverId, config: { name: 'c', model_backend: 'claude', task: 'summarize', environment: {} } },
    ]);
  });

  it('refuses a blank task inline without sending anything, in the space kept for it', async () => {
    const { wrapper } = await open();
    const slots = wrapper.findAll('.error-slot').length;
    await fillFields(wrapper, { 'spawn-name': 'n', 'spawn-task': '  \n ' });
    await submitForm(wrapper, 'spawn-dialog');
    expect(wrapper.get(sel('spawn-task-error')).text()).toBe(
      'task is required: say what the agent should do',
    );
    expect(wrapper.get(sel('spawn-task')).attributes('aria-invalid')).toBe('true');
    expect(ctx.fake.callsOf('spawnAgent')).toHaveLength(0);
    // The error went into the line kept for it: no line was added above the other fields.
    expect(wrapper.findAll('.error-slot')).toHaveLength(slots);
    expect(wrapper.get(sel('spawn-task-error')).element.parentElement?.className).toBe('error-slot');
  });

  it('says what to type for a timeout that is not a whole number of seconds, and sends nothing', async () => {
    const { wrapper } = await open();
    for (const typed of ['abc', '0', '1.5', '90000']) {
      await fillFields(wrapper, { 'spawn-name': 'n', 'spawn-task': 'echo hi', 'spawn-timeout': typed });
      await submitForm(wrapper, 'spawn-dialog');
      expect(wrapper.get(sel('spawn-timeout-error')).text(), typed).toBe(
        'enter a whole number of seconds from 1 to 86400 (24 h), or leave it empty',
      );
    }
    expect(ctx.fake.callsOf('spawnAgent')).toHaveLength(0);
  });

  it('explains Timeout and Expires in next to the fields', async () => {
    const { wrapper } = await open();
    expect(wrapper.get(sel('spawn-timeout-help')).text()).toMatch(
      /confirm the start.*does not limit how long/,
    );
    expect(wrapper.get(sel('spawn-expires-help')).text()).toMatch(/waits in the queue.*never sent/);
  });

  it('after a spawn, opens the new agent', async () => {
    const { serverId, wrapper } = await open();
    expect(wrapper.find(sel('spawn-open-agent')).exists()).toBe(false);
    await fillFields(wrapper, { 'spawn-name': 'job', 'spawn-task': 'echo hi' });
    await submitForm(wrapper, 'spawn-dialog');
    const agentId = String(wrapper.emitted('spawned')?.[0]?.[0]);
    expect(ctx.fake.agents.get(serverId)?.has(agentId)).toBe(true);
    expect(wrapper.get(sel('spawn-submit')).text()).toBe('Spawn another');
    await wrapper.get(sel('spawn-open-agent')).trigger('click');
    await settle();
    const ui = useUiStore();
    expect({ view: ui.view, serverId: ui.serverId, agentId: ui.agentId }).toEqual({
      view: 'agent',
      serverId,
      agentId,
    });
    expect(wrapper.emitted('close')).toHaveLength(1);
  });
});
