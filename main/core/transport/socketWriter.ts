/**
 * One writer per socket. zeromq.js rejects a second concurrent `send()` on a socket with
 * EBUSY, so every send on a socket goes through one of these: a bounded FIFO drained by a
 * single loop.
 */

/** What a writer needs of a socket: zeromq.js sockets satisfy it. */
export interface Sendable {
  send(message: Uint8Array[]): Promise<void>;
}

/**
 * Why a message was refused: the queue is full or the writer was closed. Rejects
 * {@link SocketWriter.send}; returned by, or passed to the callback of, {@link SocketWriter.post}.
 */
export class WriterError extends Error {
  override readonly name = 'WriterError';
  constructor(
    readonly code: 'full' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

interface Item {
  frames: Uint8Array[];
  /** Called when the socket took the message; null when nobody waits for that. */
  onSent: (() => void) | null;
  onFailed: (error: unknown, tag: string) => void;
  tag: string;
}

export class SocketWriter {
  private readonly queue: Item[] = [];
  private head = 0;
  private draining = false;
  private closed = false;

  /**
   * @param socket the socket this writer owns the sending side of
   * @param maxQueued sends waiting beyond this many are refused with WriterError('full')
   */
  constructor(
    private readonly socket: Sendable,
    private readonly maxQueued = 100_000,
  ) {}

  /** Messages waiting to be handed to the socket. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues one multipart message. Resolves when the socket has accepted it (not when the
   * peer received it); rejects with the socket's error, or WriterError when full or closed.
   */
  send(frames: Uint8Array[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const refused = this.enqueue(frames, resolve, reject, '');
      if (refused !== null) reject(refused);
    });
  }

  /**
   * `send` without a promise or closure per message, for hot paths: queues `frames` and calls
   * `onFailed(error, tag)` if the socket rejects them or the writer is closed first. One
   * `onFailed` can serve every message; `tag` (e.g. a request id) tells them apart.
   * `onFailed` may run before `post` returns (a socket can refuse a send synchronously), and
   * must not throw: it runs inside the writer's drain loop.
   *
   * @returns null when queued; the WriterError ('full' or 'closed') when refused at once, in
   *   which case `onFailed` is never called
   */
  post(
    frames: Uint8Array[],
    onFailed: (error: unknown, tag: string) => void,
    tag: string,
  ): WriterError | null {
    return this.enqueue(frames, null, onFailed, tag);
  }

  private enqueue(
    frames: Uint8Array[],
    onSent: (() => void) | null,
    onFailed: (error: unknown, tag: string) => void,
    tag: string,
  ): WriterError | null {
    if (this.closed) return new WriterError('closed', 'socket writer is closed');
    if (this.pending >= this.maxQueued) {
      return new WriterError(
        'full',
        `send queue full (${this.maxQueued} messages waiting); the peer is not reading`,
      );
    }
    this.queue.push({ frames, onSent, onFailed, tag });
    if (!this.draining) void this.drain();
    return null;
  }

  /** Refuses further sends and fails those still waiting. */
  close(): void {
    this.closed = true;
    const err = new WriterError('closed', 'socket closed before the message was sent');
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i];
      item?.onFailed(err, item.tag);
    }
    this.queue.length = 0;
    this.head = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.head < this.queue.length) {
      const item = this.queue[this.head++] as Item;
      // Compact now and then instead of shift() on every message (shift is O(n)).
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      try {
        await this.socket.send(item.frames);
      } catch (e) {
        item.onFailed(e, item.tag);
        continue;
      }
      item.onSent?.();
    }
    this.draining = false;
  }
}
