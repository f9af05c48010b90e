import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import HistoryTable from '../../../../renderer/src/components/HistoryTable.vue';
import { useQueueStore } from '../../../../renderer/src/stores/queue';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { shortId } from '../../../../renderer/src/lib/format';
import { fakeUuid, stopRequest } from '../fakeApi';
import { settle, withFreshApp } from '../setup';
import { useConfirmStore } from '../../../../renderer/src/stores/confirm';

describe('HistoryTable', () => {
  const ctx = withFreshApp();

  async function mountHistory() {
    await useServersStore().refresh();
    await useQueueStore().start();
    const wrapper = mount(HistoryTable, { global: { plugins: [ctx.pinia] } });
    await settle();
    return wrapper;
  }

  it('a batch that failed for some agents says how it split and the first failure, not "refused"', async () => {
    const serverId = ctx.fake.addServer('s');
    const batch = {
      type: 'batch_control_command' as const,
      request_id: fakeUuid(),
      agent_ids: [fakeUuid(), fakeUuid(), fakeUuid(), fakeUuid()],
      command_type: 'kill' as const,
      payload: null,
      fail_fast: false,
    };
    const partly = ctx.fake.makeCommand(serverId, batch, 'failed', {
      outcome: {
        kind: 'reply',
        success: false,
        error: 'agent 2c5f39cb: agent is not running',
        detail: '2 succeeded, 2 failed',
        agentId: null,
      },
    });
    const whole = ctx.fake.makeCommand(serverId, { ...batch, request_id: fakeUuid() }, 'failed', {
      outcome: {
        kind: 'reply',
        success: false,
        error: 'request_id reused',
        detail: 'not run',
        agentId: null,
      },
    });
    const wrapper = await mountHistory();
    const text = wrapper.get(`[data-testid="history-row-${partly.id}"]`).text();
    expect(text).toContain('2 succeeded, 2 failed; first failure: agent 2c5f39cb: agent is not running');
    expect(text).not.toContain('refused');
    // Refused as a whole, no agent touched: that is a refusal.
    expect(wrapper.get(`[data-testid="history-row-${whole.id}"]`).text()).toContain(
      'refused: request_id reused',
    );
  });

  it('retries a refused command as a new one and shows what became of it in the row', async () => {
    const serverId = ctx.fake.addServer('s');
    const failed = ctx.fake.makeCommand(serverId, stopRequest(), 'failed', {
      outcome: {
        kind: 'reply',
        success: false,
        error: 'Agent is not running',
        detail: 'done',
        agentId: null,
      },
    });
    const done = ctx.fake.makeCommand(serverId, stopRequest(), 'succeeded', {
      outcome: { kind: 'reply', success: true, error: null, detail: 'agent stopped', agentId: null },
    });
    const wrapper = await mountHistory();
    const row = () => wrapper.get(`[data-testid="history-row-${failed.id}"]`);
    expect(row().text()).toContain('refused: Agent is not running');
    // A succeeded command is issued anew, not retried.
    expect(wrapper.find(`[data-testid="history-retry-${done.id}"]`).exists()).toBe(false);

    await wrapper.get(`[data-testid="history-retry-${failed.id}"]`).trigger('click');
    await settle();
    // A retried stop ends agents like the first send: it asks first, and nothing is sent before.
    expect(ctx.fake.callsOf('retryCommand')).toEqual([]);
    expect(useConfirmStore().pending?.command).toBe('stop');
    useConfirmStore().answer(true);
    await settle();
    expect(ctx.fake.callsOf('retryCommand')).toEqual([{ id: failed.id }]);
    const retryId = useQueueStore().retriedAs[failed.id] ?? '';
    expect(retryId).not.toBe(failed.id);
    const result = row().get(`[data-testid="history-retry-result-${failed.id}"]`);
    expect(result.text()).toBe(
      `Retried as ${shortId(retryId)}: queued, it is sent when the server can take it.`,
    );
    // Retry is gone while the retry is on its way, so it cannot be queued twice by a double click.
    expect(wrapper.find(`[data-testid="history-retry-${failed.id}"]`).exists()).toBe(false);

    // The queue reports the retry's outcome: the row says so.
    const settled = ctx.fake.makeCommand(serverId, stopRequest(), 'succeeded', {
      id: retryId,
      outcome: { kind: 'reply', success: true, error: null, detail: 'agent stopped', agentId: null },
    });
    ctx.fake.emit('queue', [settled]);
    await settle();
    expect(row().get(`[data-testid="history-retry-result-${failed.id}"]`).text()).toBe(
      `Retried as ${shortId(retryId)}: succeeded.`,
    );
  });

  it('asks before retrying a command whose outcome is unknown, and says it may run twice', async () => {
    const serverId = ctx.fake.addServer('s', { capabilities: ['batch'] });
    // Sent once, then expired without a reply: it may have run.
    const unknown = ctx.fake.makeCommand(serverId, stopRequest(), 'expired', {
      attempts: 1,
      outcome: { kind: 'expired', expiresAt: Date.now() - 1000 },
    });
    const wrapper = await mountHistory();
    const retry = () => wrapper.get(`[data-testid="history-retry-${unknown.id}"]`);
    await retry().trigger('click');
    await settle();
    expect(ctx.fake.callsOf('retryCommand')).toEqual([]);
    const warning = wrapper.get(`[data-testid="history-retry-warning-${unknown.id}"]`).text();
    expect(warning).toContain('may run it twice');
    expect(warning).toContain('keeps no record of its replies');
    expect(retry().attributes('disabled')).toBeDefined();

    await wrapper.get(`[data-testid="history-retry-confirm-${unknown.id}-no"]`).trigger('click');
    expect(wrapper.find(`[data-testid="history-retry-warning-${unknown.id}"]`).exists()).toBe(false);
    expect(ctx.fake.callsOf('retryCommand')).toEqual([]);

    await retry().trigger('click');
    await wrapper.get(`[data-testid="history-retry-confirm-${unknown.id}-yes"]`).trigger('click');
    await settle();
    // A retried stop ends agents like the first send: it asks first, and nothing is sent before.
    expect(ctx.fake.callsOf('retryCommand')).toEqual([]);
    expect(useConfirmStore().pending?.command).toBe('stop');
    useConfirmStore().answer(true);
    await settle();
    expect(ctx.fake.callsOf('retryCommand')).toEqual([{ id: unknown.id }]);
    expect(wrapper.get(`[data-testid="history-retry-result-${unknown.id}"]`).text()).toMatch(
      /^Retried with the same request id: queued/,
    );
  });

  it('retries a never-sent expired command at once, and shows why a retry was refused', async () => {
    const serverId = ctx.fake.addServer('s');
    const expired = ctx.fake.makeCommand(serverId, stopRequest(), 'expired', {
      attempts: 0,
      outcome: { kind: 'expired', expiresAt: Date.now() - 1000 },
    });
    const wrapper = await mountHistory();
    // Someone else retried it meanwhile: the console's queue refuses a second retry.
    ctx.fake.commands.set(expired.id, { ...expired, state: 'queued' });
    await wrapper.get(`[data-testid="history-retry-${expired.id}"]`).trigger('click');
    await settle();
    useConfirmStore().answer(true);
    await settle();
    expect(wrapper.find(`[data-testid="history-retry-warning-${expired.id}"]`).exists()).toBe(false);
    expect(wrapper.get(`[data-testid="history-retry-error-${expired.id}"]`).text()).toBe(
      'Could not retry the command: The command is queued and cannot be retried. Refresh: the item changed state in the meantime.',
    );
  });

  it('says what the empty history is for, and offers to clear a filter that matches nothing', async () => {
    const serverId = ctx.fake.addServer('s');
    const wrapper = await mountHistory();
    expect(wrapper.get('[data-testid="history-empty"]').text()).toMatch(
      /^No commands yet: each command you issue/,
    );
    expect(wrapper.find('[data-testid="history-empty-action"]').exists()).toBe(false);

    ctx.fake.makeCommand(serverId, stopRequest(), 'succeeded');
    await useQueueStore().refresh();
    await wrapper.get('[data-testid="history-filter"]').setValue('deploy');
    expect(wrapper.get('[data-testid="history-empty"]').text()).toContain('No command matches “deploy”.');
    await wrapper.get('[data-testid="history-empty-action"]').trigger('click');
    expect((wrapper.get('[data-testid="history-filter"]').element as HTMLInputElement).value).toBe('');
    expect(wrapper.findAll('[data-testid^="history-row-"]')).toHaveLength(1);
  });
});
