/**
 * The one writer of a ZeroMQ socket. zeromq.js rejects a second concurrent `send()` on a
 * socket with EBUSY, so every send on a socket goes through one of these: a FIFO drained by a
 * single loop that awaits each send before it starts the next. The console's DEALER, the
 * server's ROUTER, PUB and ZAP sockets and the bench's raw client all send through it.
 */
import { Fifo } from '../collections/fifo';

/** One frame of a multipart message, as zeromq.js takes it. */
export type Frame = Uint8Array | string;

/** What a sender needs of a socket: zeromq.js sockets (and the server's rebind gate) satisfy it. */
export interface Sendable {
  send(frames: Frame[]): Promise<void>;
}

/**
 * Why an item was refused: the queue is full or the sender was closed. Returned by
 * {@link SerialSender.post} when refused at once; passed to its `onFailed` when a waiting item
 * is dropped by {@link SerialSender.close}.
 */
export class SenderRefusedError extends Error {
  override readonly name = 'SenderRefusedError';
  constructor(
    readonly code: 'full' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Called when an item did not reach the socket: `encode` threw, the socket rejected the send,
 * or the sender was closed while the item waited. Runs inside the drain loop (or inside
 * `close`), so it must not throw.
 */
export type SendFailed<T> = (error: unknown, item: T) => void;

interface Queued<T> {
  readonly item: T;
  readonly onFailed: SendFailed<T>;
}

/**
 * A bounded FIFO of items for one socket. Items become frames only when their turn comes
 * (`encode`), so an item dropped or refused costs no encoding.
 *
 * Full policy: {@link post} refuses an item when `limit` items already wait (by default the
 * `maxQueued` given at construction; a caller may pass a tighter limit per item, e.g. the
 * server's publisher bounds status updates and log chunks separately). A refused item is
 * returned as a {@link SenderRefusedError}: the caller decides whether that is a drop to count
 * (server) or an error to report (console).
 */
export class SerialSender<T> {
  private readonly queue = new Fifo<Queued<T>>();
  private draining = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param socket the socket this sender owns the sending side of
   * @param encode makes the frames of an item when its turn comes (may throw: the item is then
   *   reported to its `onFailed` and skipped)
   * @param maxQueued items waiting beyond this many are refused; default unbounded
   */
  constructor(
    private readonly socket: Sendable,
    private readonly encode: (item: T) => Frame[],
    private readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {}

  /** Items waiting to be handed to the socket (not counting the one being sent). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues `item` unless the sender is closed or `limit` items already wait. Allocates no
   * promise: one `onFailed` can serve every item of a caller, told apart by the item.
   * `onFailed` may run before `post` returns (a socket can refuse a send synchronously).
   *
   * @returns null when queued; the refusal ('full' or 'closed') otherwise, in which case
   *   `onFailed` is never called for this item
   */
  post(item: T, onFailed: SendFailed<T>, limit = this.maxQueued): SenderRefusedError | null {
    if (this.closed) return new SenderRefusedError('closed', 'socket sender is closed');
    if (this.pending >= limit) {
      return new SenderRefusedError(
        'full',
        `send queue full (${limit} messages waiting); the peer is not reading`,
      );
    }
    this.queue.push({ item, onFailed });
    if (!this.draining) void this.drain();
    return null;
  }

  /** Resolves once everything queued so far has been handed to the socket (or failed). Never rejects. */
  idle(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refuses further items and fails those still waiting with SenderRefusedError('closed'). The
   * item being sent, if any, is left to the socket. Idempotent.
   */
  close(): void {
    this.closed = true;
    const waiting = this.queue.takeAll();
    if (waiting.length === 0) return;
    const error = new SenderRefusedError('closed', 'socket closed before the message was sent');
    for (const q of waiting) q.onFailed(error, q.item);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) {
      try {
        await this.socket.send(this.encode(q.item));
      } catch (error) {
        q.onFailed(error, q.item);
      }
    }
    this.draining = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
