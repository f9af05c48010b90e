import type { ReplyMessage, RequestMessage } from '../shared/protocol';
import { DEDUPE_RETENTION, evictionVerdict, type DedupeRetention } from './dedupeRetention';

export type RequestType = RequestMessage['type'];

/** What the cache knows about a request id. */
export type CacheEntry =
  | { readonly state: 'running'; readonly type: RequestType; readonly reply: Promise<ReplyMessage> }
  | { readonly state: 'done'; readonly type: RequestType; readonly reply: ReplyMessage }
  /** Began before a restart and never answered: its outcome is unknown. */
  | { readonly state: 'unknown'; readonly type: RequestType };

export interface ReplyCacheOptions extends Partial<DedupeRetention> {
  /** Clock in ms (tests pass a fake one). */
  readonly now?: () => number;
}

interface Slot {
  entry: CacheEntry;
  readonly at: number;
}

/**
 * Replies by `request_id`, so a resent request gets the first reply instead of running again.
 * Entries are kept by the rule of `dedupeRetention.ts` (by default at least one hour and the
 * newest 10 000, at most 200 000). A request still running is in the cache too: a duplicate
 * waits for the same promise.
 */
export class ReplyCache {
  private readonly slots = new Map<string, Slot>();
  private readonly retention: DedupeRetention;
  private readonly now: () => number;

  constructor(options: ReplyCacheOptions = {}) {
    const minEntries = options.minEntries ?? DEDUPE_RETENTION.minEntries;
    this.retention = {
      ttlMs: options.ttlMs ?? DEDUPE_RETENTION.ttlMs,
      minEntries,
      maxEntries: Math.max(options.maxEntries ?? DEDUPE_RETENTION.maxEntries, minEntries),
    };
    this.now = options.now ?? Date.now;
  }

  /** Entries held now. */
  get size(): number {
    return this.slots.size;
  }

  /** The entry for a request id, or undefined. */
  get(requestId: string): CacheEntry | undefined {
    this.prune();
    return this.slots.get(requestId)?.entry;
  }

  /**
   * Records a request that starts running; when `reply` settles with a reply, the entry becomes
   * `done`. A rejected promise removes the entry (nothing was answered, so nothing to replay).
   */
  begin(requestId: string, type: RequestType, reply: Promise<ReplyMessage>): void {
    const slot: Slot = { entry: { state: 'running', type, reply }, at: this.now() };
    this.slots.delete(requestId);
    this.slots.set(requestId, slot);
    reply.then(
      (value) => {
        if (this.slots.get(requestId) === slot) slot.entry = { state: 'done', type, reply: value };
      },
      () => {
        if (this.slots.get(requestId) === slot) this.slots.delete(requestId);
      },
    );
    this.prune();
  }

  /** Puts a known outcome (loaded from the journal) in the cache. */
  restore(
    requestId: string,
    entry: Exclude<CacheEntry, { state: 'running' }>,
    at: number = this.now(),
  ): void {
    this.slots.delete(requestId);
    this.slots.set(requestId, { entry, at });
    this.prune();
  }

  private prune(): void {
    const now = this.now();
    for (const [id, slot] of this.slots) {
      if (evictionVerdict(this.slots.size, slot.at, now, this.retention) === 'keep') break;
      this.slots.delete(id);
    }
  }
}
