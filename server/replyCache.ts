import type { ReplyMessage, RequestMessage } from '../shared/protocol';

export type RequestType = RequestMessage['type'];

/** What the cache knows about a request id. */
export type CacheEntry =
  | { readonly state: 'running'; readonly type: RequestType; readonly reply: Promise<ReplyMessage> }
  | { readonly state: 'done'; readonly type: RequestType; readonly reply: ReplyMessage }
  /** Began before a restart and never answered: its outcome is unknown. */
  | { readonly state: 'unknown'; readonly type: RequestType };

export interface ReplyCacheOptions {
  /** Entries younger than this (ms) are kept… */
  readonly ttlMs?: number;
  /** …and so are the newest `minEntries`, whatever their age. */
  readonly minEntries?: number;
  /** Hard cap: beyond it the oldest entries go even if young (memory bound). */
  readonly maxEntries?: number;
  /** Clock in ms (tests pass a fake one). */
  readonly now?: () => number;
}

interface Slot {
  entry: CacheEntry;
  readonly at: number;
}

/**
 * Replies by `request_id`, so a resent request gets the first reply instead of running again.
 * An entry is kept while it is among the newest `minEntries` (10 000) OR younger than `ttlMs`
 * (10 min), up to `maxEntries` (200 000) in all. A request still running is in the cache too:
 * a duplicate waits for the same promise.
 */
export class ReplyCache {
  private readonly slots = new Map<string, Slot>();
  private readonly ttlMs: number;
  private readonly minEntries: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ReplyCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60 * 1000;
    this.minEntries = options.minEntries ?? 10_000;
    this.maxEntries = Math.max(options.maxEntries ?? 200_000, this.minEntries);
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
    const oldestAllowed = this.now() - this.ttlMs;
    for (const [id, slot] of this.slots) {
      const size = this.slots.size;
      if (size > this.maxEntries || (size > this.minEntries && slot.at < oldestAllowed))
        this.slots.delete(id);
      else break;
    }
  }
}
