/**
 * The status feed as saved in localStorage: the newest entries (newest first) and the unread
 * count, validated when read back. localStorage rather than sessionStorage so the feed also
 * survives a restart of the console (the failure an operator comes back to read); it stays
 * small because the feed is bounded (300 entries ≈ 100 KB at most).
 */
import { z } from 'zod';
import { readStorage, removeStorage, writeStorage } from './storage';

/** localStorage key; the `v1` changes when the saved shape does. */
export const FEED_STORAGE_KEY = 'descartes.feed.v1';

const entrySchema = z.object({
  id: z.number().int().positive(),
  at: z.number().nonnegative(),
  level: z.enum(['info', 'warning', 'error']),
  title: z.string().max(2000),
  body: z.string().max(10_000),
  serverId: z.string().max(200).nullable(),
  agentId: z.string().max(200).nullable(),
  agentName: z.string().max(500).nullable(),
  commandId: z.string().max(200).nullable(),
});

const savedSchema = z.object({
  unread: z.number().int().nonnegative(),
  entries: z.array(entrySchema),
});

/** One saved feed entry. */
export type SavedFeedEntry = z.infer<typeof entrySchema>;

/** What {@link loadFeed} gives back. */
export interface SavedFeed {
  readonly entries: SavedFeedEntry[];
  readonly unread: number;
}

/**
 * The saved feed, at most `limit` entries, newest first. Anything unreadable (not JSON, wrong
 * shape, a field of the wrong type) drops the whole saved feed: an empty feed beats one
 * showing rows that may be wrong. The unread count never exceeds the entries kept.
 */
export function loadFeed(limit: number): SavedFeed {
  const text = readStorage(FEED_STORAGE_KEY);
  if (text === null) return { entries: [], unread: 0 };
  let parsed: ReturnType<typeof savedSchema.safeParse>;
  try {
    parsed = savedSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = savedSchema.safeParse(undefined);
  }
  if (!parsed.success) {
    removeStorage(FEED_STORAGE_KEY);
    return { entries: [], unread: 0 };
  }
  const entries = parsed.data.entries.slice(0, limit);
  return { entries, unread: Math.min(parsed.data.unread, entries.length) };
}

/** Saves the feed; returns false when storage refused it (the feed then lives until reload). */
export function saveFeed(feed: SavedFeed): boolean {
  return writeStorage(FEED_STORAGE_KEY, JSON.stringify(feed));
}

/** Forgets the saved feed. */
export function forgetFeed(): void {
  removeStorage(FEED_STORAGE_KEY);
}
