import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STATUS_PER_BATCH, useFeedStore } from '../../../../renderer/src/stores/feed';
import { THEME_KEY, useSettingsStore } from '../../../../renderer/src/stores/settings';
import { freshApp, manualFrames } from '../setup';

describe('settings store', () => {
  beforeEach(() => {
    localStorage.clear();
    freshApp();
  });

  it('follows the system theme until toggled, then persists the choice', () => {
    const settings = useSettingsStore();
    expect(settings.choice).toBe('system');
    const initial = settings.theme;
    settings.toggleTheme();
    const toggled = initial === 'dark' ? 'light' : 'dark';
    expect(settings.theme).toBe(toggled);
    expect(localStorage.getItem(THEME_KEY)).toBe(toggled);
  });

  it('reads the persisted choice on start', () => {
    localStorage.setItem(THEME_KEY, 'light');
    freshApp();
    expect(useSettingsStore().theme).toBe('light');
  });
});

describe('feed store', () => {
  let ctx: ReturnType<typeof freshApp>;
  const shown: { title: string; body: string | undefined }[] = [];
  beforeEach(() => {
    ctx = freshApp();
    shown.length = 0;
    class FakeNotification {
      static permission: NotificationPermission = 'granted';
      static requestPermission(): Promise<NotificationPermission> {
        return Promise.resolve('granted');
      }
      readonly title: string;
      constructor(title: string, options?: NotificationOptions) {
        this.title = title;
        shown.push({ title, body: options?.body });
      }
    }
    vi.stubGlobal('Notification', FakeNotification);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('collects notifications and significant status changes, bounded per batch', () => {
    const frames = manualFrames();
    const feed = useFeedStore();
    feed.start();
    ctx.fake.emit('notification', {
      level: 'warning',
      title: 'Server offline',
      body: 'build farm stopped answering',
    });
    const updates = Array.from({ length: 50 }, (_, i) => ({
      type: 'status_update' as const,
      agent_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      update_type: 'status_changed' as const,
      status: 'completed' as const,
      timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
    }));
    ctx.fake.emit('status', {
      serverId: 's',
      updates: [
        ...updates,
        {
          ...updates[0],
          update_type: 'heartbeat' as const,
          agent_id: 'x',
          timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
          type: 'status_update' as const,
        },
      ],
    });
    frames.run(2); // the feed renders a frame after the agents table
    expect(feed.entries).toHaveLength(1 + STATUS_PER_BATCH + 1);
    expect(feed.entries.some((e) => e.title === `${50 - STATUS_PER_BATCH} more status changes`)).toBe(true);
    expect(feed.entries.at(-1)?.title).toBe('Server offline');
  });

  it('pops a desktop notification for failures when permitted, one per burst', () => {
    const settings = useSettingsStore();
    expect(settings.canNotify).toBe(true);
    const feed = useFeedStore();
    feed.start();
    ctx.fake.emit('notification', { level: 'error', title: 'Command failed', body: 'stop agent 1: refused' });
    ctx.fake.emit('notification', { level: 'error', title: 'Command failed', body: 'again' });
    ctx.fake.emit('notification', { level: 'info', title: 'fyi', body: '' });
    expect(shown).toEqual([{ title: 'Command failed', body: 'stop agent 1: refused' }]);
    settings.setDesktopNotifications(false);
    expect(settings.canNotify).toBe(false);
  });
});
