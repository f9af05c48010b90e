import type * as zmq from 'zeromq';
import { rebind } from './endpoints';

/**
 * Drops every connection of a bound socket by unbinding and binding its endpoint again, and
 * keeps the socket's users working meanwhile: zeromq.js refuses `send` and `receive` (EBUSY,
 * "blocked by a bind or unbind operation") while a bind or unbind runs, so senders wait for
 * {@link pending} and a receive loop that failed during it starts again after it.
 */
export class RebindGate {
  private running: Promise<void> | null = null;

  constructor(
    private readonly socket: zmq.Socket & zmq.Writable,
    private readonly endpoint: string,
  ) {}

  /** Settles when the rebind in progress is over (never rejects); null when none runs. */
  get pending(): Promise<void> | null {
    return this.running;
  }

  /**
   * Unbinds and binds again (see `rebind`). Rebinds asked for while one runs share it.
   * @throws BindError when the endpoint cannot be bound again: the socket then stays deaf
   */
  drop(): Promise<void> {
    if (this.running !== null) return this.running;
    const done = rebind(this.socket, this.endpoint);
    this.running = done.then(
      () => undefined,
      () => undefined,
    );
    const clear = (): void => {
      this.running = null;
    };
    done.then(clear, clear);
    return done;
  }

  /** Sends `frames` once no rebind runs; one that failed because a rebind began is retried. */
  send(frames: (Uint8Array | string)[]): Promise<void> {
    const waiting = this.running;
    if (waiting === null)
      return this.socket.send(frames).catch((error: unknown) => this.retry(error, frames));
    return waiting.then(() => this.send(frames));
  }

  private retry(error: unknown, frames: (Uint8Array | string)[]): Promise<void> {
    if (this.running === null) throw error;
    return this.running.then(() => this.send(frames));
  }
}
