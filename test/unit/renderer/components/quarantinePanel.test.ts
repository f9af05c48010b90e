import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { QuarantinedCommand, QueueNotice } from '../../../../shared/domain/quarantine';
import QuarantinePanel from '../../../../renderer/src/components/QuarantinePanel.vue';
import QueueNotices from '../../../../renderer/src/components/QueueNotices.vue';
import QueuePanel from '../../../../renderer/src/components/QueuePanel.vue';
import { useQueueStore } from '../../../../renderer/src/stores/queue';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import { fakeUuid } from '../fakeApi';
import { freshApp, settle, withFreshApp } from '../setup';

function entry(n: number, over: Partial<QuarantinedCommand> = {}): QuarantinedCommand {
  const id = fakeUuid();
  return {
    entry: n,
    reason: 'state: "sendin" is not a command state',
    quarantinedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    id,
    serverId: null,
    summary: 'pause agent 1b4e28ba',
    state: 'sendin',
    createdAt: Date.UTC(2025, 0, 2, 3, 0, 0),
    attempts: 0,
    raw: { seq: n, id, state: 'sendin', request: { bytes: 87, hexPrefix: '95af' } },
    ...over,
  };
}

const NOTICE: QueueNotice = {
  id: 1,
  createdAt: Date.UTC(2025, 0, 2, 3, 4, 5),
  message:
    'The command database /data/commands.sqlite could not be used: it does not start with the SQLite header. ' +
    'It was moved to /data/commands.sqlite.corrupt-20250102T030405Z and a new, empty queue was started; ' +
    'commands queued before are not in it. The moved file is kept for inspection: delete it once you no longer need it.',
  movedTo: '/data/commands.sqlite.corrupt-20250102T030405Z',
};

describe('the quarantined section of the queue view', () => {
  const ctx = withFreshApp();

  it('is absent while nothing is quarantined, and the pending list then says every command was delivered', async () => {
    await useQueueStore().start();
    const wrapper = mount(QuarantinePanel, { global: { plugins: [ctx.pinia] } });
    expect(wrapper.find('[data-testid="quarantine-panel"]').exists()).toBe(false);
    const pending = mount(QueuePanel, { global: { plugins: [ctx.pinia] } });
    expect(pending.get('[data-testid="queue-empty"]').text()).toBe(
      'Nothing queued: every command was delivered. Commands issued while a server is offline wait here.',
    );
  });

  it('lists each entry with the reason, what could be read and whether it may have been sent', async () => {
    const serverId = ctx.fake.addServer('lab');
    await useServersStore().start();
    ctx.fake.quarantined = [
      entry(1, { serverId }),
      entry(2, {
        attempts: 2,
        state: 'sending',
        reason: 'request: its bytes do not decode to a request (x)',
      }),
      entry(3, { attempts: null, id: null, summary: null, serverId: null, state: null }),
    ];
    await useQueueStore().start();
    const wrapper = mount(QuarantinePanel, { global: { plugins: [ctx.pinia] } });
    expect(wrapper.get('h3').text()).toBe('Quarantined (3)');
    expect(wrapper.text()).toContain('They are kept as found and will never be sent.');
    const rows = wrapper.findAll('[data-testid="quarantine-item"]');
    expect(rows.map((r) => r.attributes('data-entry'))).toEqual(['1', '2', '3']);
    expect(rows[0]?.get('[data-testid="quarantine-reason"]').text()).toBe(
      'state: "sendin" is not a command state',
    );
    expect(rows[0]?.text()).toContain('lab');
    expect(rows[0]?.find('[data-testid="quarantine-sent"]').exists()).toBe(false);
    expect(rows[1]?.get('[data-testid="quarantine-sent"]').text()).toBe(
      'It had been sent 2 time(s): it may have run on the server.',
    );
    expect(rows[2]?.get('[data-testid="quarantine-sent"]').text()).toBe(
      'Whether it was ever sent cannot be read: it may have reached the server.',
    );
    expect(rows[2]?.text()).toContain('summary unreadable');
    expect(rows[2]?.get('[data-testid="quarantine-id"]').text()).toBe('request id unreadable');
    expect(rows[0]?.get('[data-testid="quarantine-raw"]').text()).toContain(
      'request: {"bytes":87,"hexPrefix":"95af"}',
    );

    // The pending list no longer claims everything was delivered.
    const pending = mount(QueuePanel, { global: { plugins: [ctx.pinia] } });
    expect(pending.get('[data-testid="queue-empty"]').text()).toBe(
      'Nothing waiting to be sent. The quarantined commands below are never sent.',
    );
  });

  it('discards an entry only after a confirmation', async () => {
    ctx.fake.quarantined = [entry(1), entry(2)];
    await useQueueStore().start();
    const wrapper = mount(QuarantinePanel, { global: { plugins: [ctx.pinia] } });
    const first = (): ReturnType<typeof wrapper.get> => wrapper.get('[data-entry="1"]');
    await first().get('[data-testid="quarantine-discard"]').trigger('click');
    expect(first().get('[data-testid="quarantine-confirm"]').text()).toContain('Delete it for good?');
    await first().get('[data-testid="quarantine-discard-no"]').trigger('click');
    expect(first().find('[data-testid="quarantine-confirm"]').exists()).toBe(false);
    expect(ctx.fake.callsOf('discardQuarantined')).toEqual([]);

    await first().get('[data-testid="quarantine-discard"]').trigger('click');
    await first().get('[data-testid="quarantine-discard-yes"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('discardQuarantined')).toEqual([{ entry: 1 }]);
    expect(wrapper.findAll('[data-testid="quarantine-item"]').map((r) => r.attributes('data-entry'))).toEqual(
      ['2'],
    );
    expect(wrapper.get('h3').text()).toBe('Quarantined (1)');
  });

  it('says why a discard failed, next to the entry', async () => {
    ctx.fake.quarantined = [entry(1)];
    await useQueueStore().start();
    const wrapper = mount(QuarantinePanel, { global: { plugins: [ctx.pinia] } });
    ctx.fake.quarantined = [];
    await wrapper.get('[data-testid="quarantine-discard"]').trigger('click');
    await wrapper.get('[data-testid="quarantine-discard-yes"]').trigger('click');
    await settle();
    expect(wrapper.get('[data-testid="quarantine-error"]').text()).toMatch(
      /^Could not discard the quarantined command: No quarantined command with entry number 1\. Refresh the list/,
    );
  });
});

describe('repair notices in the queue view', () => {
  it('show what happened and where the file went, until dismissed', async () => {
    const ctx = freshApp();
    ctx.fake.notices = [NOTICE];
    await useQueueStore().start();
    const wrapper = mount(QueueNotices, { global: { plugins: [ctx.pinia] } });
    const notice = wrapper.get('[data-testid="queue-notice"]');
    expect(notice.attributes('role')).toBe('alert');
    expect(notice.get('[data-testid="queue-notice-message"]').text()).toBe(NOTICE.message);
    await notice.get('[data-testid="queue-notice-dismiss"]').trigger('click');
    await settle();
    expect(ctx.fake.callsOf('dismissQueueNotice')).toEqual([{ id: 1 }]);
    expect(wrapper.find('[data-testid="queue-notice"]').exists()).toBe(false);
  });
});
