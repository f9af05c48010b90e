/**
 * The status feed: recent agent status changes and notifications, newest first, bounded to
 * {@link FEED_LIMIT} entries, saved across reloads (lib/feedStorage.ts), with desktop
 * notifications for failures when the operator allowed them.
 *
 * Built for a status flood (10,000 updates/s arriving as ≤ 20 batches/s): status batches are
 * applied once per animation frame (a backlog of batches costs one update), one frame after the
 * agents table applies the same batch (the two renders never share a frame), and a frame adds at
 * most {@link STATUS_PER_BATCH} rows per server, the newest status of each agent (its older ones
 * are coalesced into it), plus one summary row; rows are plain frozen objects formatted once
 * when added, so the view only re-renders the rows in its window.
 *
 * One announced command = one row: entries about a command (`subject.commandId` of a
 * notification) replace the earlier row about that command instead of adding another.
 */
import { defineStore } from 'pinia';
import { onScopeDispose, ref, shallowRef } from 'vue';
import type { ConsoleEvents } from '../../../shared/ipc';
import type { StatusUpdate } from '../../../shared/protocol';
import { getApi } from '../api';
import { forgetFeed, loadFeed, saveFeed, type SavedFeedEntry } from '../lib/feedStorage';
import { formatCount, formatTime, shortId } from '../lib/format';
import { FrameBatcher, secondFrameScheduler } from '../lib/frameBatcher';
import { knownAgentName } from './agentNames';
import { useSettingsStore } from './settings';

export type FeedLevel = 'info' | 'warning' | 'error';

/** One feed row. `stamp` is `at` as local "YYYY-MM-DD HH:MM:SS", formatted once. */
export interface FeedEntry extends Readonly<SavedFeedEntry> {
  readonly stamp: string;
}

/** What a new row says; the store adds its id, time and agent name. */
export interface FeedItem {
  readonly level: FeedLevel;
  readonly title: string;
  readonly body: string;
  readonly serverId: string | null;
  readonly agentId: string | null;
  readonly commandId: string | null;
}

/** Entries kept (and saved). */
export const FEED_LIMIT = 300;
/** Status rows added per frame and server at most; the rest are summarised in one row. */
export const STATUS_PER_BATCH = 10;
/** Minimum gap between desktop notifications, in ms (a burst becomes one summary). */
export const NOTIFY_GAP_MS = 5000;
/** Rows below the new ones that get a late agent name filled in (see `withName`). */
const NAME_FILL_ROWS = 50;
/** Saving waits this long (ms) after a change, so a flood writes storage about once a second. */
export const SAVE_DELAY_MS = 1000;

const toEntry = (saved: SavedFeedEntry): FeedEntry =>
  Object.freeze({ ...saved, stamp: formatTime(saved.at) });

/**
 * The updates of one batch worth a row, newest first, at most one per agent (its newest):
 * heartbeats and output notices are left out. `skipped` counts the other significant updates.
 */
export function coalesceStatus(
  updates: readonly StatusUpdate[],
  limit: number,
): { kept: StatusUpdate[]; skipped: number } {
  const kept: StatusUpdate[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  for (let i = updates.length - 1; i >= 0; i--) {
    const update = updates[i];
    if (update === undefined) continue;
    if (update.update_type === 'heartbeat' || update.update_type === 'output_available') continue;
    if (seen.has(update.agent_id)) continue; // an older status of an agent already kept
    seen.add(update.agent_id);
    if (kept.length < limit) kept.push(update);
    else skipped++;
  }
  return { kept, skipped };
}

export const useFeedStore = defineStore('feed', () => {
  const saved = loadFeed(FEED_LIMIT);
  /** Newest first. Replaced (never mutated) on change, so the view diffs only its window. */
  const entries = shallowRef<readonly FeedEntry[]>(saved.entries.map(toEntry));
  const unread = ref(saved.unread);
  let nextId = saved.entries.reduce((max, e) => Math.max(max, e.id), 0) + 1;
  let offs: (() => void)[] = [];
  let lastNotified = 0;
  let suppressed = 0;
  let saveTimer: ReturnType<typeof setTimeout> | null = null;

  function saveNow(): void {
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveTimer = null;
    const list = entries.value.map(({ stamp: _stamp, ...rest }) => rest);
    saveFeed({ entries: list, unread: unread.value });
  }

  function scheduleSave(): void {
    saveTimer ??= setTimeout(saveNow, SAVE_DELAY_MS);
  }

  /** The agent's name as the console knows it, else null (the view shows a short id). */
  function agentName(serverId: string | null, agentId: string | null): string | null {
    return serverId === null || agentId === null ? null : knownAgentName(serverId, agentId);
  }

  /**
   * `entry` with its agent's name when it had none and the agents list now has it (a status
   * update of a fresh agent often arrives before the list that names it); else `entry` itself.
   */
  function withName(entry: FeedEntry): FeedEntry {
    if (entry.agentName !== null || entry.agentId === null) return entry;
    const name = agentName(entry.serverId, entry.agentId);
    return name === null ? entry : Object.freeze({ ...entry, agentName: name });
  }

  /**
   * Adds `items` (oldest first) on top. An item about a command already in the feed replaces
   * that row (same id, moved to the top) and does not count as unread again.
   */
  function add(items: readonly FeedItem[]): void {
    if (items.length === 0) return;
    const at = Date.now();
    const added: FeedEntry[] = []; // oldest first
    const replaced = new Set<number>();
    let fresh = 0;
    for (const item of items) {
      let id: number | null = null;
      if (item.commandId !== null) {
        const inBatch = added.findIndex((e) => e.commandId === item.commandId);
        const earlier =
          inBatch >= 0
            ? added.splice(inBatch, 1)[0]
            : entries.value.find((e) => e.commandId === item.commandId);
        if (earlier !== undefined) {
          id = earlier.id;
          replaced.add(earlier.id);
        }
      }
      if (id === null) {
        id = nextId++;
        fresh++;
      }
      added.push(toEntry({ ...item, id, at, agentName: agentName(item.serverId, item.agentId) }));
    }
    const next = added.reverse().slice(0, FEED_LIMIT);
    for (const e of entries.value) {
      if (next.length >= FEED_LIMIT) break;
      if (replaced.has(e.id)) continue;
      next.push(next.length < NAME_FILL_ROWS ? withName(e) : e);
    }
    entries.value = next;
    unread.value = Math.min(unread.value + fresh, next.length);
    scheduleSave();
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
    statusFrames.flush(); // status that came first stays below
    const subject = payload.subject;
    const known = subject !== undefined && entries.value.some((e) => e.commandId === subject.commandId);
    add([
      {
        level: payload.level,
        title: payload.title,
        body: payload.body,
        serverId: subject?.serverId ?? null,
        agentId: subject?.agentId ?? null,
        commandId: subject?.commandId ?? null,
      },
    ]);
    // A repeat announcement of the same command does not pop up again either.
    if (payload.level === 'error' && !known) notifyDesktop(payload.title, payload.body);
  }

  /** Status batches of one server, merged: one row set per frame however many batches came. */
  function applyStatus(payloads: ConsoleEvents['status'][]): void {
    const byServer = new Map<string, StatusUpdate[]>();
    for (const p of payloads) {
      const list = byServer.get(p.serverId);
      if (list === undefined) byServer.set(p.serverId, [...p.updates]);
      else for (const u of p.updates) list.push(u);
    }
    for (const [serverId, updates] of byServer) addStatus({ serverId, updates });
  }
  const statusFrames = new FrameBatcher<ConsoleEvents['status']>(applyStatus, secondFrameScheduler);

  function addStatus(payload: ConsoleEvents['status']): void {
    const { kept, skipped } = coalesceStatus(payload.updates, STATUS_PER_BATCH);
    const items: FeedItem[] = [];
    if (skipped > 0) {
      items.push({
        level: 'info',
        title: `${formatCount(skipped)} more status changes`,
        body: 'shown in the agents table',
        serverId: payload.serverId,
        agentId: null,
        commandId: null,
      });
    }
    // Oldest first, as add() takes them; kept is newest first.
    for (let i = kept.length - 1; i >= 0; i--) {
      const update = kept[i];
      if (update === undefined) continue;
      const failed = update.update_type === 'error' || update.status === 'failed';
      const title = update.status ?? update.update_type.replace('_', ' ');
      items.push({
        level: failed ? 'error' : 'info',
        title,
        body: update.message ?? '',
        serverId: payload.serverId,
        agentId: update.agent_id,
        commandId: null,
      });
      if (failed) {
        const who = agentName(payload.serverId, update.agent_id) ?? shortId(update.agent_id);
        notifyDesktop(
          `Agent ${who} ${title}`,
          update.message ?? 'The agent failed. Open it to read its output.',
        );
      }
    }
    add(items);
  }

  function onResync(payload: ConsoleEvents['resync']): void {
    statusFrames.flush();
    add([
      {
        level: 'warning',
        title: 'Agents re-listed',
        body: payload.reason,
        serverId: payload.serverId,
        agentId: null,
        commandId: null,
      },
    ]);
  }

  const flushOnHide = (): void => {
    if (saveTimer !== null) saveNow();
  };

  /** Starts listening (idempotent). */
  function start(): void {
    if (offs.length > 0) return;
    const api = getApi();
    offs = [
      api.on('notification', onNotification),
      api.on('status', (payload) => {
        statusFrames.push(payload);
      }),
      api.on('resync', onResync),
    ];
    // A reload within SAVE_DELAY_MS of the last change must not lose it.
    window.addEventListener('pagehide', flushOnHide);
  }

  function stop(): void {
    for (const off of offs) off();
    offs = [];
    statusFrames.flush();
    window.removeEventListener('pagehide', flushOnHide);
    flushOnHide();
  }
  onScopeDispose(stop);

  function markRead(): void {
    if (unread.value === 0) return;
    unread.value = 0;
    scheduleSave();
  }

  /** Empties the feed, here and in storage. */
  function clear(): void {
    if (saveTimer !== null) clearTimeout(saveTimer);
    saveTimer = null;
    entries.value = [];
    unread.value = 0;
    forgetFeed();
  }

  return { entries, unread, start, stop, markRead, clear, add };
});
