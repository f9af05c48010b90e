/**
 * The one writer of a ZeroMQ socket: zeromq.js rejects a second concurrent `send()` with EBUSY,
 * so every send goes through this FIFO and is awaited before the next starts.
 *
 * Items are turned into frames only when their turn comes (`encode`), so dropped items cost
 * nothing. The queue is bounded per call (`push(item, limit)`): beyond the limit an item is
 * dropped and `push` returns false.
 */
export class SendQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  /**
   * @param encode makes the frames of an item (may throw: the item is then skipped and `onError` called)
   * @param send sends frames on the socket
   * @param onError called with errors of `encode` or `send` (the queue keeps going)
   */
  constructor(
    private readonly encode: (item: T) => (Uint8Array | string)[],
    private readonly send: (frames: (Uint8Array | string)[]) => Promise<void>,
    private readonly onError: (error: unknown, item: T) => void,
  ) {}

  /** Items waiting (not counting the one being sent). */
  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Queues an item unless `limit` items already wait.
   * @returns false when the item was dropped (queue full or closed)
   */
  push(item: T, limit = Number.POSITIVE_INFINITY): boolean {
    if (this.closed || this.length >= limit) return false;
    this.items.push(item);
    if (!this.running) void this.pump();
    return true;
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      try {
        await this.send(this.encode(item));
      } catch (error) {
        this.onError(error, item);
      }
    }
    this.items.length = 0;
    this.head = 0;
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when everything queued so far has been handed to the socket. */
  drain(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits and refuses new items. */
  close(): void {
    this.closed = true;
    this.items.length = this.head;
  }
}
