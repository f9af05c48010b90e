import type * as zmq from 'zeromq';
import { bindError } from './endpoints';

/** How long a rebind keeps trying to bind the endpoint again, ms. */
const REBIND_TIMEOUT_MS = 5000;

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
   * Unbinds and binds again. Rebinds asked for while one runs share it.
   * @throws BindError when the endpoint cannot be bound again: the socket then stays deaf
   */
  drop(): Promise<void> {
    if (this.running !== null) return this.running;
    const done = this.rebind();
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

  /**
   * Unbinds the endpoint, which closes every connection accepted on it, and binds it again.
   * libzmq closes the listener on its I/O thread after `unbind` resolves, so the bind is
   * retried while the port still shows as in use or libzmq answers EAGAIN (up to 5 s).
   */
  private async rebind(): Promise<void> {
    // An unbind or bind that never settles would leave every sender waiting on this gate: a
    // deaf server that looks alive. Past the deadline it fails instead, and the owner decides.
    await withDeadline(this.socket.unbind(this.endpoint), REBIND_TIMEOUT_MS, `unbind ${this.endpoint}`);
    const deadline = Date.now() + REBIND_TIMEOUT_MS;
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      try {
        await withDeadline(this.socket.bind(this.endpoint), REBIND_TIMEOUT_MS, `bind ${this.endpoint}`);
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if ((code !== 'EADDRINUSE' && code !== 'EAGAIN') || Date.now() >= deadline) {
          throw bindError(this.endpoint, error);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private retry(error: unknown, frames: (Uint8Array | string)[]): Promise<void> {
    if (this.running === null) throw error;
    return this.running.then(() => this.send(frames));
  }
}

/** `work`, or a rejection naming `what` once `ms` milliseconds have passed without it settling. */
function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not finish within ${ms} ms`));
    }, ms);
  });
  return Promise.race([work, expired]).finally(() => {
    clearTimeout(timer);
  });
}
