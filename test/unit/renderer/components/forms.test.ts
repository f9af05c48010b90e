import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import ActionForm from '../../../../renderer/src/components/ActionForm.vue';
import ServerForm from '../../../../renderer/src/components/ServerForm.vue';
import SpawnDialog from '../../../../renderer/src/components/SpawnDialog.vue';
import { CURVE, SERVER_KEY } from '../fakeApi';
import { fillFields, freshApp, settle, submitForm, withFreshAgent } from '../setup';

describe('ActionForm', () => {
  const ctx = withFreshAgent();

  it('lists actions with list_actions and validates params live, with the error position', async () => {
    const wrapper = mount(ActionForm, { props: ctx.ids, global: { plugins: [ctx.pinia] } });
    await settle();
    expect(ctx.fake.callsOf('sendAction')).toEqual([{ ...ctx.ids, action: 'list_actions' }]);
    expect((wrapper.get('[data-testid="action-name"]').element as HTMLInputElement).value).toBe('echo');
    expect(wrapper.get('[data-testid="action-description"]').text()).toContain('Returns its params');
    await wrapper.get('[data-testid="action-params"]').setValue('{"a": 1,\n "b": }');
    expect(wrapper.get('[data-testid="action-params-error"]').text()).toContain('Line 2, column 7');
    expect(wrapper.get('[data-testid="action-run"]').attributes('disabled')).toBeDefined();
    await wrapper.get('[data-testid="action-params"]').setValue('{"a": 1, "b": [true]}');
    expect(wrapper.find('[data-testid="action-params-error"]').exists()).toBe(false);
    await wrapper.get('[data-testid="action-form"]').trigger('submit');
    await settle();
    expect(ctx.fake.callsOf('sendAction').at(-1)).toEqual({
      ...ctx.ids,
      action: 'echo',
      params: { a: 1, b: [true] },
      timeoutSecs: 30,
    });
    expect(wrapper.get('[data-testid="action-outcome"]').text()).toContain('Done');
    expect(JSON.parse(wrapper.get('[data-testid="action-result"]').text())).toEqual({ a: 1, b: [true] });
  });

  it('clears the previous result while the next action is on its way', async () => {
    const wrapper = mount(ActionForm, { props: ctx.ids, global: { plugins: [ctx.pinia] } });
    await settle();
    await wrapper.get('[data-testid="action-params"]').setValue('{"a": 1}');
    await wrapper.get('[data-testid="action-form"]').trigger('submit');
    await settle();
    expect(JSON.parse(wrapper.get('[data-testid="action-result"]').text())).toEqual({ a: 1 });
    let release = (): void => undefined;
    ctx.fake.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    expect(wrapper.find('[data-testid="action-unlisted"]').exists()).toBe(false);
    await wrapper.get('[data-testid="action-name"]').setValue('nosuchaction');
    expect(wrapper.get('[data-testid="action-unlisted"]').text()).toBe(
      '“nosuchaction” is not one of the listed actions: the server passes it to the agent, and if the agent does not answer, the request fails when its timeout ends.',
    );
    await wrapper.get('[data-testid="action-form"]').trigger('submit');
    await settle();
    // Waiting for the reply: the echo's result is not shown under the new request.
    expect(wrapper.find('[data-testid="action-result"]').exists()).toBe(false);
    release();
    ctx.fake.gate = null;
    await settle();
    expect(wrapper.get('[data-testid="action-outcome"]').text()).toContain('unknown action nosuchaction');
  });

  it('rejects a bad timeout before sending', async () => {
    const wrapper = mount(ActionForm, { props: ctx.ids, global: { plugins: [ctx.pinia] } });
    await settle();
    await wrapper.get('[data-testid="action-timeout"]').setValue('0');
    expect(wrapper.get('[data-testid="action-timeout-error"]').text()).toBe(
      'enter a whole number of seconds from 1 to 86400 (24 h), or leave it empty',
    );
    expect(wrapper.get('[data-testid="action-run"]').attributes('disabled')).toBeDefined();
  });
});

describe('ServerForm', () => {
  it('shows the schema messages next to the fields and does not call the API', async () => {
    const ctx = freshApp();
    const wrapper = mount(ServerForm, { global: { plugins: [ctx.pinia] } });
    await fillFields(wrapper, { 'server-endpoint': 'localhost:5555' });
    await submitForm(wrapper, 'server-form');
    expect(wrapper.get('[data-testid="server-name-error"]').text()).toBe('name is required');
    expect(wrapper.get('[data-testid="server-endpoint-error"]').text()).toBe(
      'endpoint must look like tcp://host:port',
    );
    expect(ctx.fake.callsOf('addServer')).toHaveLength(0);
    await fillFields(wrapper, {
      'server-name': 'lab',
      'server-endpoint': 'tcp://10.1.2.3:5555',
      'server-key': SERVER_KEY,
    });
    expect(wrapper.find('[data-testid="server-name-error"]').exists()).toBe(false);
    await submitForm(wrapper, 'server-form');
    expect(ctx.fake.callsOf('addServer')).toEqual([
      { name: 'lab', endpoint: 'tcp://10.1.2.3:5555', heartbeatIntervalMs: null, security: CURVE },
    ]);
    expect(wrapper.emitted('done')).toHaveLength(1);
  });
});

describe('SpawnDialog', () => {
  it('validates env rows and required fields, then spawns with the environment', async () => {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const wrapper = mount(SpawnDialog, { props: { serverId }, global: { plugins: [ctx.pinia] } });
    await fillFields(wrapper, { 'spawn-env-key-0': '1BAD' });
    await submitForm(wrapper, 'spawn-dialog');
    expect(wrapper.get('[data-testid="spawn-name-error"]').text()).toBe('name is required');
    expect(wrapper.get('[data-testid="spawn-env-error-0"]').text()).toBe(
      'environment names are letters, digits and _',
    );
    expect(ctx.fake.callsOf('spawnAgent')).toHaveLength(0);
    await fillFields(wrapper, {
      'spawn-name': 'job',
      'spawn-task': 'echo hi',
      'spawn-env-key-0': 'MODE',
      'spawn-env-value-0': 'fast',
      'spawn-timeout': '60',
    });
    await submitForm(wrapper, 'spawn-dialog');
    expect(ctx.fake.callsOf('spawnAgent')).toEqual([
      {
        serverId,
        config: { name: 'job', model_backend: 'shell', task: 'echo hi', environment: { MODE: 'fast' } },
        timeoutSecs: 60,
      },
    ]);
    expect(wrapper.get('[data-testid="spawn-outcome"]').text()).toContain('Done');
    expect(wrapper.emitted('spawned')).toHaveLength(1);
  });

  it('removing an environment row keeps the inputs of the rows after it, focus included', async () => {
    const ctx = freshApp();
    const serverId = ctx.fake.addServer('s');
    const wrapper = mount(SpawnDialog, {
      props: { serverId },
      attachTo: document.body,
      global: { plugins: [ctx.pinia] },
    });
    await wrapper.get('[data-testid="spawn-env-add"]').trigger('click');
    await wrapper.get('[data-testid="spawn-env-key-0"]').setValue('FIRST');
    const second = wrapper.get('[data-testid="spawn-env-key-1"]');
    await second.setValue('SECOND');
    (second.element as HTMLInputElement).focus();
    await wrapper.get('[aria-label="Remove variable 1"]').trigger('click');
    expect(wrapper.findAll('[data-testid="spawn-env-row"]')).toHaveLength(1);
    expect(document.activeElement).toBe(second.element);
    expect((second.element as HTMLInputElement).value).toBe('SECOND');
    wrapper.unmount();
  });
});
