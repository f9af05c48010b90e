/** The status feed store: bounds, one row per command, coalescing under a flood, persistence. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NotificationEvent } from '../../../../shared/ipc';
import { FEED_STORAGE_KEY } from '../../../../renderer/src/lib/feedStorage';
import { useAgentsStore } from '../../../../renderer/src/stores/agents';
import { useFleetStore } from '../../../../renderer/src/stores/fleet';
import { useServersStore } from '../../../../renderer/src/stores/servers';
import {
  FEED_LIMIT,
  SAVE_DELAY_MS,
  STATUS_PER_BATCH,
  useFeedStore,
} from '../../../../renderer/src/stores/feed';
import { fakeUuid, statusUpdate } from '../fakeApi';
import { freshApp, manualFrames, settle } from '../setup';

const update = statusUpdate;

const refusal = (serverId: string, commandId: string, agentId: string | null): NotificationEvent => ({
  level: 'error',
  title: 'Command failed on local',
  body: 'stop agent: agent already completed. See the history for details; retry it from there.',
  subject: { serverId, commandId, agentId },
});

describe('feed store', () => {
  let ctx: ReturnType<typeof freshApp>;
  const popups: string[] = [];

  beforeEach(() => {
    localStorage.clear();
    ctx = freshApp();
    popups.length = 0;
    // A stand-in for the browser's Notification: records what would pop up.
    const FakeNotification = Object.assign(
      function FakeNotification(title: string): void {
        popups.push(title);
      },
      {
        permission: 'granted',
        requestPermission: () => Promise.resolve('granted'),
      },
    );
    vi.stubGlobal('Notification', FakeNotification);
  });
  afterEach(() => {
    useFeedStore().stop();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  /** A new page on the same localStorage: what a reload does. */
  const reload = (): ReturnType<typeof useFeedStore> => {
    useFeedStore().stop(); // flushes like `pagehide`
    ctx = freshApp();
    const feed = useFeedStore();
    feed.start();
    return feed;
  };

  it('keeps the newest FEED_LIMIT entries, newest first, with unread never above what is kept', () => {
    const feed = useFeedStore();
    feed.start();
    for (let i = 0; i < FEED_LIMIT + 50; i++)
      ctx.fake.emit('notification', { level: 'info', title: `n${i}`, body: '' });
    expect(feed.entries).toHaveLength(FEED_LIMIT);
    expect(feed.entries[0]?.title).toBe(`n${FEED_LIMIT + 49}`);
    expect(feed.entries.at(-1)?.title).toBe('n50');
    expect(feed.unread).toBe(FEED_LIMIT);
    feed.markRead();
    expect(feed.unread).toBe(0);
  });

  it('shows one refused command once, however often it is announced', () => {
    const feed = useFeedStore();
    feed.start();
    const commandId = fakeUuid();
    const agentId = fakeUuid();
    ctx.fake.emit('notification', { level: 'info', title: 'before', body: '' });
    ctx.fake.emit('notification', refusal('s', commandId, agentId));
    ctx.fake.emit('notification', { level: 'info', title: 'between', body: '' });
    ctx.fake.emit('notification', refusal('s', commandId, agentId));
    ctx.fake.emit('notification', refusal('s', commandId, agentId));
    const rows = feed.entries.filter((e) => e.commandId === commandId);
    expect(rows).toHaveLength(1);
    // The repeat moves the row to the top but is not a new unread row or a new popup.
    expect(feed.entries.map((e) => e.title)).toEqual(['Command failed on local', 'between', 'before']);
    expect(feed.unread).toBe(3);
    expect(popups).toEqual(['Command failed on local']);
    // Another command's refusal is its own row.
    ctx.fake.emit('notification', refusal('s', fakeUuid(), agentId));
    expect(feed.entries.filter((e) => e.level === 'error')).toHaveLength(2);
  });

  it('under a flood keeps the newest status of each agent in the batch, and counts the rest', () => {
    const frames = manualFrames();
    const feed = useFeedStore();
    feed.start();
    const ids = Array.from({ length: STATUS_PER_BATCH + 10 }, () => fakeUuid());
    const first = ids[0] ?? '';
    const updates = [
      update(first, 'running', 'started'),
      ...ids.map((id, i) => update(id, 'thinking', `tick ${i}`)),
      // The newest update of the first agent comes last: it must win over its older ones.
      update(first, 'failed', 'exited with code 3'),
      { ...update(first, 'running', ''), update_type: 'heartbeat' as const },
    ];
    ctx.fake.emit('status', { serverId: 's', updates });
    frames.run(2); // the feed renders a frame after the agents table
    const firstRows = feed.entries.filter((e) => e.agentId === first);
    expect(firstRows).toHaveLength(1);
    expect(firstRows[0]).toMatchObject({ title: 'failed', body: 'exited with code 3', level: 'error' });
    // Newest first: the first agent's failure is on top; the oldest ten agents are summarised.
    expect(feed.entries[0]?.agentId).toBe(first);
    expect(feed.entries).toHaveLength(STATUS_PER_BATCH + 1);
    expect(feed.entries.at(-1)?.title).toBe('10 more status changes');
    const shownAgents = new Set(feed.entries.map((e) => e.agentId));
    expect(shownAgents.has(ids.at(-1) ?? '')).toBe(true);
    expect(shownAgents.has(ids[1] ?? '')).toBe(false);
  });

  it('merges the batches that arrive within one frame: newest status per agent, one summary', () => {
    const frames = manualFrames();
    const feed = useFeedStore();
    feed.start();
    const a = fakeUuid();
    const many = Array.from({ length: STATUS_PER_BATCH + 5 }, () => fakeUuid());
    ctx.fake.emit('status', {
      serverId: 's',
      updates: [update(a, 'running', 'first'), ...many.map((id) => update(id, 'running', ''))],
    });
    ctx.fake.emit('status', { serverId: 's', updates: [update(a, 'completed', 'exited with code 0')] });
    expect(feed.entries).toEqual([]);
    // The agents table applies the batch in the next frame; the feed in the one after, so the
    // two renders never add up in one frame.
    frames.run();
    expect(feed.entries).toEqual([]);
    frames.run();
    expect(feed.entries.filter((e) => e.agentId === a)).toMatchObject([{ title: 'completed' }]);
    expect(feed.entries.filter((e) => e.agentId === null)).toMatchObject([
      { title: '6 more status changes' },
    ]);
    expect(feed.entries).toHaveLength(STATUS_PER_BATCH + 1);
  });

  it('names agents from the open server, falling back to a short id for others', async () => {
    const frames = manualFrames();
    const serverId = ctx.fake.addServer('s');
    const [agent] = ctx.fake.addAgents(serverId, 1);
    await useAgentsStore().open(serverId);
    await settle();
    const feed = useFeedStore();
    feed.start();
    const stranger = fakeUuid();
    ctx.fake.emit('status', {
      serverId,
      updates: [update(agent?.id ?? '', 'paused', 'paused (soft)'), update(stranger, 'running', '')],
    });
    frames.run(2); // the feed renders a frame after the agents table
    expect(feed.entries.find((e) => e.agentId === agent?.id)?.agentName).toBe('agent-00000');
    expect(feed.entries.find((e) => e.agentId === stranger)?.agentName).toBeNull();
  });

  it('names agents of other servers from the all-servers table', async () => {
    const frames = manualFrames();
    const open = ctx.fake.addServer('open');
    const other = ctx.fake.addServer('other');
    ctx.fake.addAgents(open, 1);
    const [elsewhere] = ctx.fake.addAgents(other, 2);
    await useServersStore().start();
    await useAgentsStore().open(open);
    useFleetStore().start();
    await settle();
    const feed = useFeedStore();
    feed.start();
    ctx.fake.emit('status', { serverId: other, updates: [update(elsewhere?.id ?? '', 'running', '')] });
    frames.run(2);
    expect(feed.entries.find((e) => e.agentId === elsewhere?.id)?.agentName).toBe('agent-00000');
  });

  it('fills in a name the agents list learns after the row was added', async () => {
    const frames = manualFrames();
    const serverId = ctx.fake.addServer('s');
    const agents = useAgentsStore();
    await agents.open(serverId);
    const feed = useFeedStore();
    feed.start();
    const [fresh] = ctx.fake.addAgents(serverId, 1);
    if (fresh === undefined) throw new Error('no agent');
    ctx.fake.emit('status', { serverId, updates: [update(fresh.id, 'running', 'agent started')] });
    frames.run(2); // the feed renders a frame after the agents table
    expect(feed.entries[0]?.agentName).toBeNull();
    agents.upsert(fresh);
    ctx.fake.emit('notification', { level: 'info', title: 'later', body: '' });
    expect(feed.entries.find((e) => e.agentId === fresh.id)?.agentName).toBe('agent-00000');
  });

  it('comes back after a reload with its rows, ids and unread count', () => {
    const feed = useFeedStore();
    feed.start();
    const commandId = fakeUuid();
    ctx.fake.emit('notification', { level: 'warning', title: 'offline', body: 'server gone' });
    feed.markRead();
    ctx.fake.emit('notification', refusal('s', commandId, null));
    const before = feed.entries.map((e) => ({ ...e }));
    const again = reload();
    expect(again.entries.map((e) => ({ ...e }))).toEqual(before);
    expect(again.unread).toBe(1);
    // The same refusal announced after the reload still does not add a row.
    ctx.fake.emit('notification', refusal('s', commandId, null));
    expect(again.entries).toHaveLength(2);
    expect(again.unread).toBe(1);
    // New rows get ids after the saved ones.
    ctx.fake.emit('notification', { level: 'info', title: 'later', body: '' });
    expect(again.entries[0]?.id).toBeGreaterThan(Math.max(...before.map((e) => e.id)));
  });

  it('saves once per delay under a flood, not per batch, and flushes on stop', () => {
    vi.useFakeTimers();
    const frames = manualFrames();
    const feed = useFeedStore();
    feed.start();
    const saved = (): string => localStorage.getItem(FEED_STORAGE_KEY) ?? '';
    for (let i = 0; i < 40; i++)
      ctx.fake.emit('status', { serverId: 's', updates: [update(fakeUuid(), 'running', `t${i}`)] });
    frames.run(2); // the feed renders a frame after the agents table
    expect(saved()).toBe('');
    vi.advanceTimersByTime(SAVE_DELAY_MS);
    expect(saved()).toContain('"t39"');
    ctx.fake.emit('notification', { level: 'info', title: 'last', body: '' });
    expect(saved()).not.toContain('"last"');
    feed.stop();
    expect(saved()).toContain('"last"');
  });

  it.each([
    ['not JSON', '{"entries": ['],
    ['a wrong shape', '[1, 2, 3]'],
    [
      'an entry with a bad field',
      JSON.stringify({
        unread: 1,
        entries: [
          {
            id: 1,
            at: 1,
            level: 'fatal',
            title: 't',
            body: '',
            serverId: null,
            agentId: null,
            agentName: null,
            commandId: null,
          },
        ],
      }),
    ],
  ])('drops a saved feed holding %s, without failing', (_what, text) => {
    localStorage.setItem(FEED_STORAGE_KEY, text);
    const feed = useFeedStore();
    feed.start();
    expect(feed.entries).toEqual([]);
    expect(feed.unread).toBe(0);
    expect(localStorage.getItem(FEED_STORAGE_KEY)).toBeNull();
    ctx.fake.emit('notification', { level: 'info', title: 'fresh', body: '' });
    expect(feed.entries).toHaveLength(1);
  });

  it('clears the feed here and in storage', () => {
    const feed = useFeedStore();
    feed.start();
    ctx.fake.emit('notification', { level: 'info', title: 'one', body: '' });
    reload();
    const again = useFeedStore();
    expect(again.entries).toHaveLength(1);
    again.clear();
    expect(again.entries).toEqual([]);
    expect(again.unread).toBe(0);
    expect(reload().entries).toEqual([]);
  });
});
