/**
 * The status feed: recent agent status changes and notifications, bounded, with desktop
 * notifications for failures when the operator allowed them.
 */
import { defineStore } from 'pinia';
import { onScopeDispose, ref, shallowRef } from 'vue';
import type { ConsoleEvents } from '../../../shared/ipc';
import { getApi } from '../api';
import { shortId } from '../lib/format';
import { useSettingsStore } from './settings';

export type FeedLevel = 'info' | 'warning' | 'error';

export interface FeedEntry {
  readonly id: number;
  readonly at: number;
  readonly level: FeedLevel;
  readonly title: string;
  readonly body: string;
  readonly serverId: string | null;
  readonly agentId: string | null;
}

/** Entries kept. */
export const FEED_LIMIT = 300;
/** Status entries added per event batch at most; the rest are summarised in one line. */
export const STATUS_PER_BATCH = 20;
/** Minimum gap between desktop notifications, in ms (a burst becomes one summary). */
export const NOTIFY_GAP_MS = 5000;

export const useFeedStore = defineStore('feed', () => {
  const entries = shallowRef<FeedEntry[]>([]);
  const unread = ref(0);
  let nextId = 1;
  let offs: (() => void)[] = [];
  let lastNotified = 0;
  let suppressed = 0;

  function add(items: Omit<FeedEntry, 'id' | 'at'>[]): void {
    if (items.length === 0) return;
    const at = Date.now();
    const fresh = items.map((item) => ({ ...item, id: nextId++, at }));
    entries.value = [...fresh.reverse(), ...entries.value].slice(0, FEED_LIMIT);
    unread.value += items.length;
  }

  function notifyDesktop(title: string, body: string): void {
    const settings = useSettingsStore();
    if (!settings.canNotify) return;
    const now = Date.now();
    if (now - lastNotified < NOTIFY_GAP_MS) {
      suppressed++;
      return;
    }
    lastNotified = now;
    const extra = suppressed > 0 ? ` (+${suppressed} more failures, see the status feed)` : '';
    suppressed = 0;
    try {
      new Notification(title, { body: body + extra, tag: 'descartes-failure' });
    } catch {
      // Some hosts expose Notification but refuse construction; the feed still shows it.
    }
  }

  function onNotification(payload: ConsoleEvents['notification']): void {
    add([{ level: payload.level, title: payload.title, body: payload.body, serverId: null, agentId: null }]);
    if (payload.level === 'error') notifyDesktop(payload.title, payload.body);
  }

  function onStatus(payload: ConsoleEvents['status']): void {
    const items: Omit<FeedEntry, 'id' | 'at'>[] = [];
    let skipped = 0;
    for (const update of payload.updates) {
      if (update.update_type === 'heartbeat' || update.update_type === 'output_available') continue;
      if (items.length >= STATUS_PER_BATCH) {
        skipped++;
        continue;
      }
      const failed = update.update_type === 'error' || update.status === 'failed';
      const title = `Agent ${shortId(update.agent_id)} ${update.status ?? update.update_type.replace('_', ' ')}`;
      items.push({
        level: failed ? 'error' : 'info',
        title,
        body: update.message ?? '',
        serverId: payload.serverId,
        agentId: update.agent_id,
      });
      if (failed) notifyDesktop(title, update.message ?? 'The agent failed. Open it to read its output.');
    }
    if (skipped > 0) {
      items.push({
        level: 'info',
        title: `${skipped} more status changes`,
        body: 'Shown in the agents table.',
        serverId: payload.serverId,
        agentId: null,
      });
    }
    add(items);
  }

  function onResync(payload: ConsoleEvents['resync']): void {
    add([
      {
        level: 'warning',
        title: 'Agents re-listed',
        body: payload.reason,
        serverId: payload.serverId,
        agentId: null,
      },
    ]);
  }

  /** Starts listening (idempotent). */
  function start(): void {
    if (offs.length > 0) return;
    const api = getApi();
    offs = [api.on('notification', onNotification), api.on('status', onStatus), api.on('resync', onResync)];
  }

  function stop(): void {
    for (const off of offs) off();
    offs = [];
  }
  onScopeDispose(stop);

  function markRead(): void {
    unread.value = 0;
  }

  function clear(): void {
    entries.value = [];
    unread.value = 0;
  }

  return { entries, unread, start, stop, markRead, clear };
});
